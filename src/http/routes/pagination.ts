import type { Context } from 'koa';
import { HttpError } from '../errors.js';

/**
 * The staff API's list parameters and DRF's CursorPagination answer shape
 * `{"next": url|null, "previous": url|null, "results": [...]}`. A parameter a list does not know,
 * or a value it cannot read, is a DRF-shaped 400 naming it: `{"<param>": ["<message>"]}`.
 */
export type ParamKind = 'text' | 'boolean' | 'integer';

const BOOLEANS: Record<string, boolean> = { true: true, True: true, '1': true, false: false, False: false, '0': false };

/** The query string read against the parameters a list accepts (the last value wins, as Django's QueryDict.get). */
export function listParams(ctx: Context, accepted: Record<string, ParamKind>): Record<string, string | boolean | number | undefined> {
  const errors: Record<string, string[]> = {};
  const values: Record<string, string | boolean | number | undefined> = {};
  for (const [name, raw] of Object.entries(ctx.query)) {
    const value = Array.isArray(raw) ? raw.at(-1) : raw;
    const kind = accepted[name];
    if (kind === undefined) {
      errors[name] = [`Unknown parameter. Accepted: ${Object.keys(accepted).join(', ')}.`];
      continue;
    }
    if (value === undefined) continue;
    if (kind === 'boolean') {
      if (!(value in BOOLEANS)) errors[name] = ['Must be a valid boolean.'];
      else values[name] = BOOLEANS[value];
    } else if (kind === 'integer') {
      if (!/^\d{1,9}$/.test(value)) errors[name] = ['A valid integer is required.'];
      else values[name] = Number(value);
    } else {
      values[name] = value;
    }
  }
  if (Object.keys(errors).length > 0) throw new HttpError(400, errors);
  return values;
}

function urlWith(ctx: Context, cursor: string): string {
  const params = new URLSearchParams(ctx.querystring);
  params.set('cursor', cursor);
  return `${ctx.protocol}://${ctx.host}${ctx.path}?${params}`;
}

/** A page as DRF's CursorPagination answers it: the cursors become the URLs of the pages around it. */
export function cursorPage<T>(ctx: Context, page: { results: T[]; next: string | null; previous: string | null }) {
  return {
    next: page.next === null ? null : urlWith(ctx, page.next),
    previous: page.previous === null ? null : urlWith(ctx, page.previous),
    results: page.results,
  };
}

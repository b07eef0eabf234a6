import type { Context } from 'koa';
import { DomainError } from '../app/errors.js';
import type { Console } from './console.js';
import { messageOf, page } from './context.js';

export interface UserMatch {
  username: string;
  active: boolean;
}

/** Users whose name starts with `q` (case-insensitively), for the token form's user picker: one directory query. */
export async function findUsers(console: Console, q: string, limit: number): Promise<UserMatch[]> {
  const found = await console.deps.ledger.listUsers({ prefix: q, limit });
  return found.results.map((u) => ({ username: u.username, active: u.active }));
}

/** Every list page shows this many rows (the bench measures pages of this size). */
export const LIST_PAGE = 50;

const TOKEN_STATUSES = ['current', 'live', 'expiring', 'grace', 'expired', 'revoked', 'any'] as const;

function text(ctx: Context, name: string): string {
  return String(ctx.query[name] ?? '').trim();
}

/** `yes`/`no` from a select, as the directory's boolean filter. */
function yesNo(value: string): boolean | undefined {
  return value === 'yes' ? true : value === 'no' ? false : undefined;
}

/** The current URL with `cursor` replaced (pages are keyset cursors from the directory). */
function pageUrl(ctx: Context, cursor: string | null): string | null {
  if (cursor === null) return null;
  const params = new URLSearchParams(ctx.querystring);
  params.set('cursor', cursor);
  return `${ctx.path}?${params}`;
}

/** The lists: users and tokens, from the directory read model (never a walk over the log). */
export function listPages(console: Console): void {
  const { ledger } = console.deps;

  console.get('/admin/', async (ctx) => {
    page(ctx, '@index', { title: 'Site administration', counts: await ledger.counts() });
  });

  console.get('/admin/users/', async (ctx) => {
    const filters = { q: text(ctx, 'q'), active: text(ctx, 'active'), staff: text(ctx, 'staff') };
    const data = { title: 'Users', breadcrumbs: [{ label: 'Users' }], filters, users: [] as unknown[], next: null as string | null, previous: null as string | null };
    try {
      const found = await ledger.listUsers({
        search: filters.q || undefined,
        active: yesNo(filters.active),
        staff: yesNo(filters.staff),
        limit: LIST_PAGE,
        cursor: text(ctx, 'cursor') || undefined,
      });
      page(ctx, '@users', { ...data, users: found.results, next: pageUrl(ctx, found.next), previous: pageUrl(ctx, found.previous) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      page(ctx, '@users', { ...data, errors: [messageOf(error)] }, 400);
    }
  });

  console.get('/admin/tokens/', async (ctx) => {
    const filters = { user: text(ctx, 'user'), name: text(ctx, 'name'), prefix: text(ctx, 'prefix'), status: text(ctx, 'status') || 'current', scope: text(ctx, 'scope') };
    const data = { title: 'Tokens', breadcrumbs: [{ label: 'Tokens' }], filters, statuses: TOKEN_STATUSES, tokens: [] as unknown[], next: null as string | null, previous: null as string | null };
    try {
      const found = await ledger.listTokens({
        user: filters.user || undefined,
        name: filters.name || undefined,
        keyPrefix: filters.prefix || undefined,
        status: (TOKEN_STATUSES as readonly string[]).includes(filters.status) ? (filters.status as (typeof TOKEN_STATUSES)[number]) : 'current',
        scope: filters.scope || undefined,
        limit: LIST_PAGE,
        cursor: text(ctx, 'cursor') || undefined,
      });
      page(ctx, '@tokens', { ...data, tokens: found.results, next: pageUrl(ctx, found.next), previous: pageUrl(ctx, found.previous) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      page(ctx, '@tokens', { ...data, errors: [messageOf(error)] }, 400);
    }
  });
}

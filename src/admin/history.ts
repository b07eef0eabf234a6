import type { Context } from 'koa';
import { toAuditEntry, type AuditEntry } from '../app/audit/history.js';
import { DAMAGE_LABELS, verifyLog } from '../app/audit/verify.js';
import { DomainError, userStreamId } from '../domain/index.js';
import type { Console } from './console.js';
import { field, page } from './context.js';

/** An event's data and metadata as the console shows them: the audit redaction, and no digest at all (not even its first characters). */
export function eventJson(entry: AuditEntry): string {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => !/digest/i.test(key)).map(([key, v]) => [key, strip(v)]));
  };
  return JSON.stringify({ data: strip(entry.data), metadata: entry.metadata }, null, 2);
}

/** A user's own stream, oldest first: one stream read. */
export async function userHistory(console: Console, username: string): Promise<AuditEntry[]> {
  const events = await console.deps.ledger.store.readStream(userStreamId(username));
  return events.map(toAuditEntry);
}

/** An ISO time, a duration ago (`2h`), or empty for now. */
function instant(text: string, now: Date): Date {
  if (text.trim() === '') return now;
  const ago = /^(\d+)([smhd])$/.exec(text.trim());
  if (ago) return new Date(now.getTime() - Number(ago[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[ago[2] as 's']);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new DomainError('invalid_input', `at: "${text}" is not a time (use an ISO time such as 2026-01-31T12:00:00Z, or a duration ago such as 2h)`, { field: 'at' });
  return new Date(ms);
}

/** History: the audit log, "verify log" and "was this key valid at…". */
export function historyPages(console: Console): void {
  const { deps } = console;
  const crumbs = (last: string) => [{ label: 'History', href: '/admin/history/' }, { label: last }];

  console.get('/admin/history/verify/', async (ctx) => {
    page(ctx, '@verify', { title: 'Verify the log', breadcrumbs: crumbs('Verify the log'), result: null });
  });

  console.post('/admin/history/verify/', async (ctx) => {
    const result = await verifyLog(deps.ledger.store);
    page(ctx, '@verify', {
      title: 'Verify the log',
      breadcrumbs: crumbs('Verify the log'),
      result: {
        ok: result.ok,
        events: result.events,
        head: result.head,
        damage: result.damage.map((d) => `${DAMAGE_LABELS[d.kind]}: ${d.message}`),
      },
    });
  });

  const keyForm = (ctx: Context, data: Record<string, unknown>, status = 200) =>
    page(ctx, '@keyCheck', { title: 'Was this key valid at…', breadcrumbs: crumbs('Was this key valid at…'), at: '', verdict: null, ...data }, status);

  console.get('/admin/history/key/', async (ctx) => keyForm(ctx, {}));

  // The key arrives in a POST body from a password field: never in a URL, never echoed back.
  console.post('/admin/history/key/', async (ctx, _session, form) => {
    const key = field(form, 'key').trim();
    const atText = field(form, 'at');
    let at: Date;
    try {
      at = instant(atText, new Date(deps.clock()));
    } catch (error) {
      return keyForm(ctx, { at: atText, errors: [(error as Error).message.replace(/^at: /, '')] }, 400);
    }
    if (key === '') return keyForm(ctx, { at: atText, errors: ['Enter a key.'] }, 400);
    const verdict = await deps.ledger.verifyKey(key, at);
    keyForm(ctx, { at: atText, verdict });
  });
}

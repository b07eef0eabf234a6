import type { Context } from 'koa';
import { toAuditEntry, type AuditEntry } from '../app/audit/history.js';
import { DAMAGE_LABELS, verifyLog } from '../app/audit/verify.js';
import { auditQuery, streamBatches, userEventsNewestFirst } from '../app/audit/history.js';
import { DomainError, EVENT_TYPES } from '../domain/index.js';
import type { Console } from './console.js';
import { field, messageOf, page } from './context.js';

/** Events per history page. */
export const HISTORY_PAGE = 50;
/** Positions read by the first step back from the head; each further step reads four times more, up to MAX_WINDOW. */
const FIRST_WINDOW = 100;
const MAX_WINDOW = 4_000;
/** Positions one page may examine at most: a rare filter gets a short page and a link to search on, never a walk over the whole log. */
const MAX_SCAN = 20_000;

export interface HistoryFilters {
  user: string;
  token: string;
  type: string;
  actor: string;
  channel: string;
  since: string;
  until: string;
}

const FILTER_NAMES = ['user', 'token', 'type', 'actor', 'channel', 'since', 'until'] as const;

/**
 * One page of the history, newest first, and where the next (older) page starts. With a user or a
 * token name, the streams that can hold a match are read; otherwise the log is read backwards from `before` in windows of
 * positions, at most MAX_SCAN positions per page, so a page costs the same at any log size.
 */
export async function historyPage(
  console: Console,
  filters: HistoryFilters,
  before: bigint | null,
): Promise<{ events: AuditEntry[]; next: bigint | null; scannedTo: bigint | null }> {
  const { store } = console.deps.ledger;
  const query = auditQuery(
    {
      user: filters.user || undefined,
      token: filters.token || undefined,
      type: filters.type ? [filters.type] : undefined,
      since: filters.since || undefined,
      until: filters.until || undefined,
    },
    new Date(console.deps.clock()),
  );
  const matches = (e: AuditEntry) =>
    (query.token === undefined || e.token === query.token) &&
    (query.types === undefined || query.types.has(e.type)) &&
    (filters.actor === '' || e.metadata.actor === filters.actor) &&
    (filters.channel === '' || e.metadata.channel === filters.channel) &&
    (query.since === undefined || String(e.metadata.at) >= query.since) &&
    (query.until === undefined || String(e.metadata.at) <= query.until);
  // A user, or a token name: only the streams that can hold a match (the directory knows a token's owners).
  const streams = await console.deps.ledger.auditStreams({ user: query.user, token: query.token });
  if (streams !== undefined) {
    // Newest first from `before`, a batch at a time: at most MAX_SCAN events of a long stream per page.
    const events: AuditEntry[] = [];
    let scanned = 0;
    for await (const batch of streamBatches(store, streams, { before })) {
      for (const recorded of batch) {
        scanned += 1;
        const entry = toAuditEntry(recorded);
        if (matches(entry)) events.push(entry);
        if (events.length > HISTORY_PAGE) break;
        if (scanned >= MAX_SCAN) {
          // Cut short: the next page starts before the last event read ("searched to" only on a short page, as below).
          const shown = events.slice(0, HISTORY_PAGE);
          return { events: shown, next: recorded.position, scannedTo: shown.length < HISTORY_PAGE ? recorded.position : null };
        }
      }
      if (events.length > HISTORY_PAGE) break;
    }
    const shown = events.slice(0, HISTORY_PAGE);
    return { events: shown, next: events.length > HISTORY_PAGE ? BigInt(shown.at(-1)!.position) : null, scannedTo: null };
  }
  let end = before ?? (await store.headPosition()) + 1n;
  const events: AuditEntry[] = [];
  let scanned = 0n;
  let window = FIRST_WINDOW;
  while (end > 1n && events.length < HISTORY_PAGE && scanned < BigInt(MAX_SCAN)) {
    const start = end - 1n - BigInt(window) > 0n ? end - 1n - BigInt(window) : 0n;
    const batch = (await store.readAll({ after: start, limit: window })).filter((e) => e.position < end);
    window = Math.min(MAX_WINDOW, window * 4);
    for (const recorded of batch.reverse()) {
      const entry = toAuditEntry(recorded);
      if (matches(entry)) events.push(entry);
    }
    scanned += end - 1n - start;
    end = start + 1n;
  }
  const shown = events.slice(0, HISTORY_PAGE);
  if (events.length >= HISTORY_PAGE) return { events: shown, next: BigInt(shown.at(-1)!.position), scannedTo: null };
  return { events: shown, next: end > 1n ? end : null, scannedTo: end > 1n ? end : null };
}

/** An event's data and metadata as the console shows them: the audit redaction, and no digest at all (not even its first characters). */
export function eventJson(entry: AuditEntry): string {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => !/digest/i.test(key)).map(([key, v]) => [key, strip(v)]));
  };
  return JSON.stringify({ data: strip(entry.data), metadata: entry.metadata }, null, 2);
}

/** A user's `count` most recent events, newest first, and whether older ones exist: the end of their stream only. */
export async function userHistory(console: Console, username: string, count: number): Promise<{ events: AuditEntry[]; more: boolean }> {
  const { store } = console.deps.ledger;
  const events: AuditEntry[] = [];
  for await (const batch of userEventsNewestFirst(store, username)) {
    events.push(...batch.slice(0, count + 1 - events.length).map(toAuditEntry));
    if (events.length > count) break;
  }
  return { events: events.slice(0, count), more: events.length > count };
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

  console.get('/admin/history/', async (ctx) => {
    const filters = Object.fromEntries(FILTER_NAMES.map((n) => [n, String(ctx.query[n] ?? '').trim()])) as unknown as HistoryFilters;
    const beforeText = String(ctx.query.before ?? '');
    const before = /^\d{1,18}$/.test(beforeText) ? BigInt(beforeText) : null;
    const data = { title: 'History', filters, types: EVENT_TYPES, json: eventJson, events: [] as AuditEntry[], next: null as string | null, scannedTo: null as string | null };
    try {
      const found = await historyPage(console, filters, before);
      const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== ''));
      if (found.next !== null) params.set('before', String(found.next));
      page(ctx, '@history', {
        ...data,
        events: found.events,
        next: found.next === null ? null : `/admin/history/?${params}`,
        scannedTo: found.scannedTo === null ? null : String(found.scannedTo),
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      page(ctx, '@history', { ...data, errors: [messageOf(error)] }, 400);
    }
  });

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

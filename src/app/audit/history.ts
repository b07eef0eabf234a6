import { DomainError, EVENT_TYPES, parseDuration } from '../../domain/index.js';
import { resolveUser, userStreamOf } from '../../eventstore/vault/index.js';
import { logBatches } from '../../eventstore/log-batches.js';
import type { EventStore, RecordedEvent } from '../../eventstore/port.js';
import { toAuditEntry, tokenNameOf, type AuditEntry } from './entry.js';
import { parse, tokenNameSchema, usernameSchema } from '../validation.js';

export { redact, toAuditEntry, type AuditEntry } from './entry.js';

/** Filters as a caller types them (CLI flags, HTTP query string). */
export interface AuditFilterInput {
  user?: string;
  token?: string;
  /** Event types, matched case-insensitively; any of them. */
  type?: string[];
  /** ISO time, or a duration meaning "that long ago" (`1h`, `7d`). Inclusive. */
  since?: string;
  until?: string;
  limit?: number;
}

/** A validated audit query. */
export interface AuditQuery {
  user?: string;
  token?: string;
  types?: ReadonlySet<string>;
  since?: string;
  until?: string;
  /** Only events after this global position (a cursor for paging). */
  after?: bigint;
  /**
   * The streams that can hold a match, when known: the user's own stream for `user`, the streams
   * of the users that own a token of that name for `token` (found in the directory). They are read
   * instead of the whole log.
   */
  streams?: readonly string[];
  /** At most this many events: the oldest ones, or with `newest` the most recent ones. */
  limit?: number;
  newest?: boolean;
}

/**
 * Events read from the store per round trip: the unit of memory, however long the log. Larger
 * batches let V8 grow its heap past the memory goal of `audit --format jsonl` at no gain in speed
 * (bench/README.md).
 */
export const AUDIT_BATCH = 500;

function parseInstant(text: string, now: Date, field: string): string {
  const ago = parseDuration(text);
  if (ago !== null) return new Date(now.getTime() - ago).toISOString();
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw new DomainError(
      'invalid_input',
      `${field}: "${text}" is not a time (use an ISO time such as 2025-01-31T12:00:00Z, or a duration ago such as 1h or 7d)`,
      { field },
    );
  return new Date(ms).toISOString();
}

function parseType(text: string): string {
  const found = EVENT_TYPES.find((t) => t.toLowerCase() === text.toLowerCase());
  if (!found) throw new DomainError('invalid_input', `type: unknown event type "${text}" (one of ${EVENT_TYPES.join(', ')})`, { field: 'type' });
  return found;
}

/** Validates filters; relative times (`1h`) count back from `now`. */
export function auditQuery(input: AuditFilterInput, now: Date): AuditQuery {
  if (input.limit !== undefined && !(Number.isSafeInteger(input.limit) && input.limit >= 0)) {
    throw new DomainError('invalid_input', 'limit: expected a whole number ≥ 0', { field: 'limit' });
  }
  return {
    user: input.user === undefined ? undefined : parse(usernameSchema, input.user, 'user'),
    token: input.token === undefined ? undefined : parse(tokenNameSchema, input.token, 'token'),
    types: input.type?.length ? new Set(input.type.map(parseType)) : undefined,
    since: input.since === undefined ? undefined : parseInstant(input.since, now, 'since'),
    until: input.until === undefined ? undefined : parseInstant(input.until, now, 'until'),
    limit: input.limit,
  };
}

async function matcher(store: EventStore, query: AuditQuery): Promise<(event: RecordedEvent) => boolean> {
  const streamId = query.user === undefined ? undefined : await userStreamOf(store, query.user);
  return (event) => {
    if (streamId !== undefined && event.streamId !== streamId) return false;
    if (query.types && !query.types.has(event.type)) return false;
    if (query.token !== undefined && tokenNameOf(event) !== query.token) return false;
    // ISO strings from toISOString() order like the instants they name.
    const at = String(event.metadata.at ?? '');
    return (query.since === undefined || at >= query.since) && (query.until === undefined || at <= query.until);
  };
}

/**
 * The first revision of a stream whose event comes after `after` in the log (the stream's length
 * when none does), found with O(log n) reads of one event: a page of a long stream (a user with
 * 10,000 logins) never reads the events before it.
 */
async function firstRevisionAfter(store: EventStore, streamId: string, after: bigint): Promise<bigint> {
  if (after <= 0n) return 0n;
  const comesAfter = async (revision: bigint) => {
    const [event] = await store.readStream(streamId, { fromRevision: revision, limit: 1 });
    return event === undefined || event.position > after;
  };
  if (await comesAfter(0n)) return 0n;
  // Revisions are dense from 0, in log order: double the step to pass `after`, then halve the gap.
  let [before, past] = [0n, 1n];
  while (!(await comesAfter(past))) [before, past] = [past, past * 2n];
  while (past - before > 1n) {
    const middle = (before + past) / 2n;
    if (await comesAfter(middle)) past = middle;
    else before = middle;
  }
  return past;
}

/** Where a merged read of streams starts: after a position going forward, or before one (null: the end) going back. */
export type StreamCursor = { after: bigint } | { before: bigint | null };

/** Past every position: the start of a read back from the end of a stream. */
const END = 2n ** 63n - 1n;

/**
 * A query's streams merged in log order (or newest first, from `before`), each read from its first
 * event past the cursor, the first reads sharing AUDIT_BATCH events among the streams and each
 * stream's next read twice its last (up to AUDIT_BATCH): memory and reads in proportion to what the
 * caller consumes, not to the streams' length nor their number.
 */
export async function* streamBatches(store: EventStore, streams: readonly string[], cursor: StreamCursor): AsyncGenerator<RecordedEvent[]> {
  const back = 'before' in cursor;
  // Read first: the next revision forward, or the last one not yet read going back (-1n: none).
  const first = (streamId: string) =>
    back ? firstRevisionAfter(store, streamId, cursor.before === null ? END : cursor.before - 1n).then((r) => r - 1n) : firstRevisionAfter(store, streamId, cursor.after);
  const open = await Promise.all(streams.map(async (streamId) => ({ streamId, next: await first(streamId), buffer: [] as RecordedEvent[], done: false })));
  /** Whether position a comes after b in the order of this read. */
  const beyond = (a: bigint, b: bigint) => (back ? a < b : a > b);
  // The first reads share one batch among the streams; a stream's reads double as it is used up.
  const opening = Math.max(1, Math.ceil(AUDIT_BATCH / Math.max(1, streams.length)));
  const windows = new Map(open.map((stream) => [stream, opening]));
  for (;;) {
    for (const stream of open) {
      if (stream.done || stream.buffer.length > 0) continue;
      const window = windows.get(stream)!;
      windows.set(stream, Math.min(AUDIT_BATCH, window * 2));
      let read: RecordedEvent[];
      if (back) {
        const from = stream.next >= BigInt(window) ? stream.next - BigInt(window) + 1n : 0n;
        read = stream.next < 0n ? [] : (await store.readStream(stream.streamId, { fromRevision: from, limit: Number(stream.next - from + 1n) })).reverse();
        stream.next = from - 1n;
        stream.done = from === 0n || read.length === 0;
      } else {
        read = await store.readStream(stream.streamId, { fromRevision: stream.next, limit: window });
        stream.next += BigInt(read.length);
        stream.done = read.length < window;
      }
      stream.buffer = read;
    }
    // A stream that may hold more has nothing unread before the last event of its buffer (in the
    // order of this read): up to the first of those lasts, every buffer's events are in order.
    const reading = open.filter((stream) => !stream.done);
    const bound = reading.length === 0 ? null : reading.map((stream) => stream.buffer.at(-1)!.position).reduce((a, b) => (beyond(a, b) ? b : a));
    const ready: RecordedEvent[] = [];
    for (const stream of open) {
      const cut = bound === null ? -1 : stream.buffer.findIndex((event) => beyond(event.position, bound));
      ready.push(...stream.buffer.splice(0, cut === -1 ? stream.buffer.length : cut));
    }
    if (ready.length > 0) yield ready.sort((a, b) => (a.position === b.position ? 0 : beyond(a.position, b.position) ? 1 : -1));
    if (reading.length === 0 && open.every((stream) => stream.buffer.length === 0)) return;
  }
}

/** Where a query's events come from: its streams when it names them, else the whole log. */
async function* batches(store: EventStore, query: AuditQuery, after: bigint): AsyncGenerator<RecordedEvent[]> {
  const streams = query.streams ?? (query.user === undefined ? undefined : [await userStreamOf(store, query.user)]);
  yield* streams ? streamBatches(store, streams, { after }) : logBatches(store, { after, batch: AUDIT_BATCH });
}

/** `drain`: read on to the end of the log even past the limit, so that `cursor` ends at the head. */
async function* scan(store: EventStore, query: AuditQuery, cursor: { position: bigint }, drain = false): AsyncGenerator<AuditEntry[]> {
  const matches = await matcher(store, query);
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  if (query.newest && Number.isFinite(limit)) {
    // The N most recent: a ring of N, so memory stays bounded by the limit, not the log.
    const ring: RecordedEvent[] = [];
    let next = 0;
    for await (const batch of batches(store, query, cursor.position)) {
      cursor.position = batch.at(-1)!.position;
      for (const event of batch) {
        if (limit === 0 || !matches(event)) continue;
        if (ring.length < limit) ring.push(event);
        else ring[next] = event;
        next = (next + 1) % limit;
      }
    }
    const ordered = ring.length < limit ? ring : [...ring.slice(next), ...ring.slice(0, next)];
    if (ordered.length > 0) yield ordered.map(toAuditEntry);
    return;
  }
  let left = limit;
  for await (const batch of batches(store, query, cursor.position)) {
    if (left <= 0 && !drain) return;
    cursor.position = batch.at(-1)!.position;
    if (left <= 0) continue;
    const page = batch.filter(matches).slice(0, left).map(toAuditEntry);
    left -= page.length;
    if (page.length > 0) yield page;
  }
}

/**
 * The matching history in log order, in pages of at most one store batch, so a caller that writes
 * each page out before asking for the next one runs in constant memory.
 */
export function auditPages(store: EventStore, query: AuditQuery): AsyncGenerator<AuditEntry[]> {
  return scan(store, query, { position: query.after ?? 0n });
}

/**
 * Events one page of the staff API reads at most. A filter that matches rarely answers a short
 * (even empty) page whose `next` goes on from where the reading stopped: no request reads in
 * proportion to the log, however rare its matches.
 */
export const AUDIT_PAGE_SCAN = 10_000;

export interface AuditPage {
  /** At most `limit` matches, in log order. */
  entries: AuditEntry[];
  /** The position of the last event read (`after` when none was). */
  reached: bigint;
  /** Whether the reading reached the end of what the query selects. */
  end: boolean;
}

/** One page of the matching history after `query.after`: up to `limit` matches, reading at most `scan` events. */
export async function auditPage(store: EventStore, query: AuditQuery & { limit: number }, scan = AUDIT_PAGE_SCAN): Promise<AuditPage> {
  const matches = await matcher(store, query);
  const entries: AuditEntry[] = [];
  let reached = query.after ?? 0n;
  let read = 0;
  for await (const batch of batches(store, query, reached)) {
    for (const event of batch) {
      reached = event.position;
      read += 1;
      if (matches(event)) entries.push(toAuditEntry(event));
      if (entries.length >= query.limit || read >= scan) return { entries, reached, end: false };
    }
  }
  return { entries, reached, end: true };
}

/** The whole matching history as one array (for `--json`: mind the limit). */
export async function auditList(store: EventStore, query: AuditQuery): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  for await (const page of auditPages(store, query)) all.push(...page);
  return all;
}

export interface FollowOptions {
  signal: AbortSignal;
  /** How often to look for new events when the store cannot push (SQLite): at most this late. */
  pollMs?: number;
}

/** Resolves after `ms`, at the store's next append notice, or on abort, whichever comes first. */
function nextWake(store: EventStore, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    const done = () => {
      clearTimeout(timer);
      unsubscribe?.();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    unsubscribe = store.subscribe?.(done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Like `tail -f`: the history the query selects, then every new matching event (appended by any
 * process) as it arrives, until `signal` aborts. The limit applies to the history only.
 */
export async function* followAudit(store: EventStore, query: AuditQuery, options: FollowOptions): AsyncGenerator<AuditEntry[]> {
  const cursor = { position: query.after ?? 0n };
  yield* scan(store, query, cursor, true);
  const live: AuditQuery = { ...query, limit: undefined, newest: false };
  while (!options.signal.aborted) {
    await nextWake(store, options.pollMs ?? 200, options.signal);
    if (options.signal.aborted) return;
    yield* scan(store, live, cursor);
  }
}

/** A user's most recent events first, a batch at a time (streamBatches back from the end of their stream). */
export async function* userEventsNewestFirst(store: EventStore, username: string): AsyncGenerator<RecordedEvent[]> {
  yield* streamBatches(store, [await userStreamOf(store, username)], { before: null });
}

/**
 * A user's own stream, opened, oldest first: the HMAC stream of a sealing log or `user-<username>`
 * (callers outside src/app cannot compute stream ids: the pepper is in the vault).
 */
export async function userEvents(store: EventStore, username: string): Promise<RecordedEvent[]> {
  return (await resolveUser(store, username)).history;
}

import { StoreUnavailableError, type EventStore, type RecordedEvent } from '../../eventstore/port.js';
import { AUDIT_BATCH } from './history.js';
import { EMPTY_HEAD, HeadWatcher, formatHead, nextHead, parseHead, type HeadCheck, type LogHead } from './head.js';
import { StreamCheck, hashAt, headDamage, storedHash, type Damage } from './damage.js';

export { DAMAGE_LABELS, type Damage, type DamageKind } from './damage.js';

/** What `audit verify` found. */
export interface LogVerification {
  ok: boolean;
  events: number;
  streams: number;
  /** `<position>:<sha256>`: write it down, pass it to `--expect-head` later. */
  head: string;
  headPosition: number;
  expectedHead: { value: string; status: HeadCheck['status']; position: number | null } | null;
  /** The first findings (at most `maxFindings`), in log order. */
  damage: Damage[];
  damageCount: number;
}

export interface VerifyOptions {
  expectHead?: string;
  maxFindings?: number;
  batch?: number;
}

/**
 * Walks the whole log once, in global order and in batches, and checks SPEC §6: positions strictly
 * increase; per stream, revisions are dense from 0 and appear in order; each event's hash matches
 * its content and chains to the previous event of its stream (GENESIS_HASH for revision 0). Memory
 * is one batch plus a few bytes per stream.
 */
export async function verifyLog(store: EventStore, options: VerifyOptions = {}): Promise<LogVerification> {
  const expected = options.expectHead === undefined ? null : parseHead(options.expectHead);
  const watcher = expected ? new HeadWatcher(expected) : null;
  const check = new StreamCheck(store, options.maxFindings ?? 100);
  let head: LogHead = EMPTY_HEAD;
  let events = 0;
  for (let cursor = 0n; ; ) {
    const batch = await readBatch(store, cursor, options.batch ?? AUDIT_BATCH, check);
    if (batch === null) break;
    for (const event of batch.events) {
      events += 1;
      if (event.position <= head.position) {
        check.report('reordered', event, `position ${event.position} does not come after position ${head.position}`);
      }
      head = nextHead(head, event.position, storedHash(event) ?? hashAt(event, event.revision));
      watcher?.see(head);
      await check.next(event);
    }
    cursor = batch.cursor;
  }
  const headCheck = watcher?.finish(head) ?? null;
  const damage = headCheck ? headDamage(headCheck, head) : null;
  if (damage) check.add(damage);
  return {
    ok: check.count === 0,
    events,
    streams: check.streams,
    head: formatHead(head),
    headPosition: Number(head.position),
    expectedHead: headCheck && {
      value: options.expectHead!.trim().toLowerCase(),
      status: headCheck.status,
      position: headCheck.position === null ? null : Number(headCheck.position),
    },
    damage: check.findings,
    damageCount: check.count,
  };
}

/**
 * One batch after `cursor`, or null at the end. A row the adapter cannot decode (its JSON was
 * edited into garbage) fails the whole read: then read one event at a time up to that row, and
 * step over it once it is first in line.
 */
async function readBatch(store: EventStore, cursor: bigint, size: number, check: StreamCheck): Promise<{ events: RecordedEvent[]; cursor: bigint } | null> {
  try {
    const events = await store.readAll({ after: cursor, limit: size });
    return events.length === 0 ? null : { events, cursor: events.at(-1)!.position };
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
  }
  const events: RecordedEvent[] = [];
  let position = cursor;
  while (events.length < size) {
    try {
      const [event] = await store.readAll({ after: position, limit: 1 });
      if (!event) break;
      events.push(event);
      position = event.position;
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      if (events.length > 0) break;
      return skipUnreadable(store, cursor, check);
    }
  }
  return events.length === 0 ? null : { events, cursor: position };
}

/** Finds the first position after which the log reads again; the undecodable row lies just before it. */
async function skipUnreadable(store: EventStore, cursor: bigint, check: StreamCheck): Promise<{ events: RecordedEvent[]; cursor: bigint } | null> {
  const end = await store.headPosition();
  for (let position = cursor + 1n; position <= end; position++) {
    try {
      await store.readAll({ after: position, limit: 1 });
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      continue;
    }
    check.add({
      kind: 'unreadable',
      streamId: null,
      revision: null,
      position: Number(position),
      message: `event unreadable: position ${position} cannot be decoded (its stored JSON was edited)`,
    });
    return { events: [], cursor: position };
  }
  return null;
}

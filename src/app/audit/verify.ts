import { logBatches } from '../../eventstore/log-batches.js';
import { sealedView } from '../../eventstore/vault/index.js';
import { StoreUnavailableError, type EventStore, type ReadAllOptions, type RecordedEvent } from '../../eventstore/port.js';
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
export async function verifyLog(log: EventStore, options: VerifyOptions = {}): Promise<LogVerification> {
  // The chain covers the log as stored (sealed): verification reads that, and needs no key.
  const store = sealedView(log);
  const expected = options.expectHead === undefined ? null : parseHead(options.expectHead);
  const watcher = expected ? new HeadWatcher(expected) : null;
  const check = new StreamCheck(store, options.maxFindings ?? 100);
  let head: LogHead = EMPTY_HEAD;
  let events = 0;
  // To the first empty read: an unreadable row may cut a batch short before the log ends.
  for await (const batch of logBatches(tolerantReader(store, check), { batch: options.batch ?? AUDIT_BATCH, end: 'empty' })) {
    for (const event of batch) {
      events += 1;
      if (event.position <= head.position) {
        check.report('reordered', event, `position ${event.position} does not come after position ${head.position}`);
      }
      head = nextHead(head, event.position, storedHash(event) ?? hashAt(event, event.revision));
      watcher?.see(head);
      await check.next(event);
    }
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
 * The store's `readAll`, except that a row the adapter cannot decode (its JSON was edited into
 * garbage), which fails the whole read, does not end the walk: the events before it are read one
 * at a time and returned; once it is first in line it is reported and stepped over.
 */
function tolerantReader(store: EventStore, check: StreamCheck): Pick<EventStore, 'readAll'> {
  const readAll = async ({ after = 0n, limit = 1 }: ReadAllOptions = {}): Promise<RecordedEvent[]> => {
    try {
      return await store.readAll({ after, limit });
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
    }
    const events: RecordedEvent[] = [];
    let position = after;
    while (events.length < limit) {
      try {
        const [event] = await store.readAll({ after: position, limit: 1 });
        if (!event) break;
        events.push(event);
        position = event.position;
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        if (events.length > 0) break;
        const next = await skipUnreadable(store, position, check);
        return next === null ? [] : readAll({ after: next, limit });
      }
    }
    return events;
  };
  return { readAll };
}

/** Finds the first position after which the log reads again (null: none); the undecodable row lies just before it. */
async function skipUnreadable(store: EventStore, cursor: bigint, check: StreamCheck): Promise<bigint | null> {
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
    return position;
  }
  return null;
}

import { foldBatch } from '../../projections/batch.js';
import { positionOf, storageExpiry, type StoredRecord, type UserDoc } from '../../projections/token-records.js';
import type { LookupCallback, TokenRecord } from '../domain/record.js';
import type { RecordedEvent } from '../eventstore/port.js';
import { LookupBatcher } from './lookup-batch.js';
import { ProjectionGapError, type ProjectionBuild, type ProjectionDump, type ProjectionStore } from './port.js';

interface State {
  checkpoint: number;
  docs: Map<string, UserDoc>;
  records: Map<string, StoredRecord>;
}

const emptyState = (): State => ({ checkpoint: 0, docs: new Map(), records: new Map() });

/**
 * Synchronous on purpose: a batch is folded and written between two awaits, so it is atomic
 * with respect to every other caller in the process (the embedded default has no other writer).
 */
function applyTo(state: State, events: RecordedEvent[], after?: bigint): void {
  if (after !== undefined && BigInt(state.checkpoint) < after) throw new ProjectionGapError(BigInt(state.checkpoint), after);
  const fresh = events.filter((event) => positionOf(event) > state.checkpoint);
  if (fresh.length === 0) return;
  for (const change of foldBatch(state.docs, fresh).values()) {
    state.docs.set(change.username, change.doc);
    writeRecords(state, change.records);
  }
  state.checkpoint = positionOf(fresh.at(-1)!);
}

function writeRecords(state: State, records: Map<string, StoredRecord | null>): void {
  // Frozen, so the object a lookup hands out can be shared without a copy per request (the
  // projection never changes a record or its scopes once made: it makes new ones).
  for (const [digest, record] of records) {
    if (record === null) {
      state.records.delete(digest);
    } else {
      Object.freeze(record.scopes);
      state.records.set(digest, Object.freeze(record));
    }
  }
}

/** The projection in process memory: the embedded default, one per server process. */
export class MemoryProjectionStore implements ProjectionStore {
  readonly backend = 'memory';
  private state: State = emptyState();

  /** Answered after the event loop's turn, with the turn's other lookups (see LookupBatcher). */
  lookup(digest: string): Promise<TokenRecord | null> {
    return this.lookups.lookup(digest);
  }

  /** `lookup` answered through a callback, without a promise (what the middleware uses). */
  lookupWith(digest: string, callback: LookupCallback): void {
    this.lookups.lookupWith(digest, callback);
  }

  private readonly lookups = new LookupBatcher((digests) => {
    const { records } = this.state;
    const now = Date.now();
    return digests.map((digest) => {
      const record = records.get(digest);
      if (record === undefined) return null;
      // What Redis drops by itself (PXAT) is gone here too, so both backends answer alike.
      const expiry = storageExpiry(record);
      return expiry !== null && expiry <= now ? null : record;
    });
  });

  async apply(events: RecordedEvent[], after?: bigint): Promise<void> {
    applyTo(this.state, events, after);
  }

  async checkpoint(): Promise<bigint> {
    return BigInt(this.state.checkpoint);
  }

  /** Never: process memory holds a projection from the start (lookups find nothing until caught up). */
  async isEmpty(): Promise<boolean> {
    return false;
  }

  async clear(): Promise<void> {
    this.state = emptyState();
  }

  async close(): Promise<void> {}

  async dump(): Promise<ProjectionDump> {
    const { checkpoint, docs, records } = this.state;
    return { checkpoint: BigInt(checkpoint), docs: new Map(docs), records: new Map(records) };
  }

  async beginRebuild(): Promise<ProjectionBuild> {
    const build = emptyState();
    let open = true;
    return {
      write: async (docs, records, checkpoint) => {
        for (const [key, doc] of docs) build.docs.set(key, doc);
        writeRecords(build, records);
        build.checkpoint = Number(checkpoint);
      },
      apply: async (events, after) => applyTo(build, events, after),
      checkpoint: async () => BigInt(build.checkpoint),
      commit: async () => {
        if (!open) throw new Error('this rebuild was already committed or aborted');
        if (build.checkpoint < this.state.checkpoint) return false;
        // One assignment: a lookup sees either the old projection or the new one, never a mix.
        this.state = build;
        open = false;
        return true;
      },
      abort: async () => {
        open = false;
      },
    };
  }
}

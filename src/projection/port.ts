import type { StoredRecord, UserDoc } from '../../projections/token-records.js';
import type { LookupCallback, TokenRecord } from '../domain/record.js';
import type { RecordedEvent } from '../eventstore/port.js';

/**
 * Where the projection lives (Redis or process memory). The read side is one lookup by
 * sha256(key); the write side applies events together with the checkpoint, atomically.
 */
export interface ProjectionStore {
  /** Which backend this is, for status output. */
  readonly backend: 'redis' | 'memory';
  /** One O(1) read. Throws ProjectionUnavailableError when the backend cannot answer in time. */
  lookup(digest: string): Promise<TokenRecord | null>;
  /** The same read answered through a callback instead of a promise (the request path's form). */
  lookupWith?(digest: string, callback: LookupCallback): void;
  /**
   * Applies events in log order, atomically with the checkpoint. Events at or before the
   * checkpoint change nothing, so applying an event twice (or by two projectors) is harmless.
   * `after` is the position the batch was read after (default: the checkpoint): a projection
   * that is not that far (reset or lost meanwhile) applies nothing and throws ProjectionGapError,
   * since the events in between would be missing. An empty store accepts only `after` = 0.
   */
  apply(events: RecordedEvent[], after?: bigint): Promise<void>;
  /** Position of the last event applied; 0n for an empty projection. */
  checkpoint(): Promise<bigint>;
  /**
   * True when there is no projection at all (a new Redis, or one that restarted without its
   * data): lookups are unavailable, `apply` refuses, and a projector rebuilds it first.
   */
  isEmpty(): Promise<boolean>;
  /** Forgets everything (records and checkpoint): the store is empty afterwards. */
  clear(): Promise<void>;
  close(): Promise<void>;
  /**
   * Starts a replacement beside the live projection (blue/green): lookups keep answering from
   * the live one until the build is committed, so a rebuild never causes an outage.
   */
  beginRebuild(): Promise<ProjectionBuild>;
  /** Every user document and record of the live projection: for consistency checks and tests. */
  dump(): Promise<ProjectionDump>;
}

/** A projection being rebuilt; nobody but its builder writes it until `commit`. */
export interface ProjectionBuild {
  /**
   * Writes documents (keyed by stream key, see streamKeyOf) and record changes folded from the log
   * up to `checkpoint`, without reading.
   */
  write(docs: ReadonlyMap<string, UserDoc>, records: Map<string, StoredRecord | null>, checkpoint: bigint): Promise<void>;
  /** Like ProjectionStore.apply, on the build: catches up with events appended during the rebuild. */
  apply(events: RecordedEvent[], after?: bigint): Promise<void>;
  checkpoint(): Promise<bigint>;
  /**
   * Makes the build the live projection in one atomic step, if it is at least as far as the live
   * one; returns false (and changes nothing) when it must catch up first.
   */
  commit(): Promise<boolean>;
  /** Drops the build, leaving the live projection as it was. */
  abort(): Promise<void>;
}

export interface ProjectionDump {
  checkpoint: bigint;
  docs: Map<string, UserDoc>;
  records: Map<string, StoredRecord>;
}

/** The projection cannot be read or written now (Redis down or too slow): callers fail closed. */
export class ProjectionUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionUnavailableError';
  }
}

/**
 * A write is in the log (the source of truth: it is done and stays done) but the projection could
 * not be brought up to it, so servers may not answer by it yet. The app layer's subclasses
 * (src/app/behind.ts) carry what was written, and a new key.
 */
export class ProjectionBehindError extends ProjectionUnavailableError {
  constructor(cause: ProjectionUnavailableError) {
    super(cause.message);
    this.name = 'ProjectionBehindError';
  }
}

/** A batch does not continue the projection (it was reset or lost meanwhile): read it again from the checkpoint. */
export class ProjectionGapError extends Error {
  readonly code = 'gap';
  constructor(readonly checkpoint: bigint, readonly after: bigint) {
    super(`the projection is at ${checkpoint}, behind the batch read after ${after}`);
    this.name = 'ProjectionGapError';
  }
}

import type { TokenRecord } from '../domain/record.js';
import type { RecordedEvent } from '../eventstore/port.js';

/**
 * Where the projection lives (Redis or process memory). The read side is one lookup by
 * sha256(key); the write side applies events together with the checkpoint, atomically.
 */
export interface ProjectionStore {
  /** One O(1) read. Throws ProjectionUnavailableError when the backend cannot answer in time. */
  lookup(digest: string): Promise<TokenRecord | null>;
  /**
   * Applies events in log order, atomically with the checkpoint. Events at or before the
   * checkpoint change nothing, so applying an event twice (or by two projectors) is harmless.
   */
  apply(events: RecordedEvent[]): Promise<void>;
  /** Position of the last event applied; 0n for an empty projection. */
  checkpoint(): Promise<bigint>;
  /** Forgets everything (records and checkpoint). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** The projection cannot be read or written now (Redis down or too slow): callers fail closed. */
export class ProjectionUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionUnavailableError';
  }
}

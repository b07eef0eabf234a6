import type { EventStore, RecordedEvent } from './port.js';

export interface LogBatchesOptions {
  /** Read events after this position (default 0n: from the start). */
  after?: bigint;
  /** Events per read: the unit of memory, however long the log. */
  batch: number;
  /** False when the caller has no use for metadata (see ReadAllOptions). Default true. */
  metadata?: boolean;
  /** False when the caller reads no password hash (see ReadAllOptions). Default true. */
  passwords?: boolean;
  /** False when the caller reads no subject (see ReadAllOptions). Default true. */
  subjects?: boolean;
  /**
   * Where the walk ends: at the first batch shorter than `batch` (`'short'`, the default: the log
   * as it stood), at the first empty one (`'empty'`: also what was appended meanwhile), or once a
   * batch reaches a position (a short batch is then no end: a store may make commits visible out of
   * order, so the walk reads on until it gets there or a read comes back empty).
   */
  end?: 'short' | 'empty' | bigint;
}

/**
 * The log in global order, one `readAll` per batch: the one loop every reader of the whole log
 * (queries, audit, its verification, the projector's catch-up and rebuild) walks it with.
 */
export async function* logBatches(store: Pick<EventStore, 'readAll'>, options: LogBatchesOptions): AsyncGenerator<RecordedEvent[]> {
  const { batch, metadata, passwords, subjects, end = 'short' } = options;
  for (let after = options.after ?? 0n; typeof end !== 'bigint' || after < end; ) {
    const events = await store.readAll({ after, limit: batch, metadata, passwords, subjects });
    if (events.length === 0) return;
    yield events;
    if (end === 'short' && events.length < batch) return;
    after = events.at(-1)!.position;
  }
}

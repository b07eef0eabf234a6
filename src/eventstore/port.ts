/**
 * The event store port, on KurrentDB's model: streams with bigint revisions (0-based), an
 * expected state per append, and one global, ordered position (1-based) over all events.
 */
export type ExpectedState = 'no_stream' | 'stream_exists' | 'any' | bigint;

export interface NewEvent {
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

export interface RecordedEvent {
  streamId: string;
  revision: bigint;
  position: bigint;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  /**
   * The username of the user whose stream holds the event, as a sealing log knows it
   * (src/eventstore/vault): `"[erased]"` once the user was deleted. Undefined on plain reads.
   */
  subject?: string;
}

export interface AppendResult {
  /** Revision of the last event appended. */
  nextExpectedRevision: bigint;
  /** Global position of the last event appended. */
  position: bigint;
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this. 0n reads from the start. */
  after?: bigint;
  /** At most this many events. */
  limit?: number;
  /**
   * False when the caller has no use for metadata (the projection reads type and data only): a
   * store may then leave `metadata` empty and skip reading it. Default true.
   */
  metadata?: boolean;
  /**
   * False when the caller reads no password hash (the read models only ask whether an event has
   * one): a sealing log may then leave `passwordHash` sealed, a string where there is a hash, and
   * skip fetching its key. Default true.
   */
  passwords?: boolean;
  /**
   * False when the caller reads no `subject` (the read models name users by the usernames in
   * their events): a sealing log may then leave it unset and skip looking up the streams' users.
   * Default true.
   */
  subjects?: boolean;
}

export interface ReadStreamOptions {
  /** Inclusive: the first revision to read (a snapshot's revision, say). Default 0n. */
  fromRevision?: bigint;
  /** At most this many events (a page of a long stream). Default: to the end of the stream. */
  limit?: number;
}

export interface EventStore {
  /** Appends atomically; throws ConcurrencyError when the stream is not in the expected state. */
  append(streamId: string, events: NewEvent[], expected: ExpectedState): Promise<AppendResult>;
  /**
   * The events of the stream in revision order, from `fromRevision` on (inclusive; default 0),
   * at most `limit` of them (default all); [] when the stream does not exist.
   */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * Optional: `readStream` of many streams in one read (an import's batch), each stream's events
   * under its id; a stream without events may be absent. Without it, callers read one at a time.
   */
  readStreams?(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>>;
  /** Events of all streams in global order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the last event, 0n when the log is empty. */
  headPosition(): Promise<bigint>;
  /**
   * Optional push for followers: calls `onAppend` (no arguments, possibly spuriously) when new
   * events may have become readable, so a projector can wait instead of polling `readAll`.
   * Returns the unsubscribe function. Adapters without it are followed by polling.
   */
  subscribe?(onAppend: () => void): () => void;
  /**
   * Optional: the last append that could not be written (the lock held by someone else past the
   * wait, a full disk, …), unless an append succeeded since. `/readyz` reports it.
   */
  lastWriteFailure?(): WriteFailure | null;
  close(): Promise<void>;
}

/** An append that could not be written: when, and why (for logs; names no secret). */
export interface WriteFailure {
  /** Date.now() of the failure. */
  at: number;
  message: string;
}

/** Two writers raced for one stream and this one lost, or the stream is not in the expected state. */
export class ConcurrencyError extends Error {
  readonly code = 'concurrency';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedState,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`Stream ${streamId}: expected ${String(expected)}, found ${String(actual)}`);
    this.name = 'ConcurrencyError';
  }
}

/** The store cannot be reached or opened; the message names the setting and never a secret. */
export class StoreUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** Whether a stream whose last revision is `actual` satisfies `expected`. */
export function satisfies(expected: ExpectedState, actual: bigint | 'no_stream'): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 'no_stream';
  if (expected === 'stream_exists') return actual !== 'no_stream';
  return actual === expected;
}

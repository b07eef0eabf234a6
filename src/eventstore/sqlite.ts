import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  ConcurrencyError,
  StoreUnavailableError,
  satisfies,
  type AppendResult,
  type EventStore,
  type ExpectedState,
  type NewEvent,
  type ReadAllOptions,
  type RecordedEvent,
  type WriteFailure,
  type ReadStreamOptions,
} from './port.js';
import { SQLITE_SNAPSHOTS_DDL, SqliteSnapshotStore } from './sqlite-snapshots.js';
import type { SnapshotStore, WithSnapshots } from './snapshots.js';

/** 1: events; 2: snapshots (a cache of folded state, sqlite-snapshots.ts). */
const SCHEMA_VERSION = 2;

interface Row {
  position: bigint;
  stream_id: string;
  revision: bigint;
  type: string;
  data: string;
  metadata: string;
}

interface PendingAppend {
  streamId: string;
  events: NewEvent[];
  expected: ExpectedState;
  /** performance.now() past which a lock held by someone else fails this append. */
  deadline: number;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

export interface SqliteOptions {
  /**
   * How long an append waits for a write lock held by another connection (another process, a
   * `sqlite3` shell, a backup) before it fails with StoreUnavailableError. The wait is asynchronous:
   * the event loop keeps running. Default 30 s (the CLI); `serve` uses TOKENLEDGER_WRITE_WAIT.
   */
  writeWaitMs?: number;
}

/**
 * SQLite's own busy handler sleeps inside the calling thread, i.e. the event loop: it only gets a
 * few milliseconds, which absorb another process's ordinary commit. Longer waits are retries on
 * timers (RETRY_MS, doubling up to RETRY_MAX_MS).
 */
const BUSY_TIMEOUT_MS = 5;
const RETRY_MS = 5;
const RETRY_MAX_MS = 100;

/** The SQLite error codes that mean "someone else holds the lock", not "this cannot work". */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}


function toRecorded(row: Row): RecordedEvent {
  return {
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    type: row.type,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
  };
}

/**
 * The embedded event store: one SQLite file in WAL mode. `synchronous = FULL` makes every
 * committed append durable before `append` returns, so a command that exited 0 survives a crash.
 * Appends take the write lock up front (BEGIN IMMEDIATE). A lock held by another connection is
 * waited for asynchronously (short busy timeout, then retries on timers), for at most `writeWaitMs`:
 * the event loop of a server never sleeps in SQLite's busy handler (review M2). Reads never wait
 * for writers in WAL mode.
 */
export class SqliteEventStore implements EventStore, WithSnapshots {
  private readonly db: Database.Database;
  private readonly lastRevision: Database.Statement<[string], { revision: bigint | null }>;
  private readonly insert: Database.Statement<[string, bigint, string, string, string]>;
  private readonly byStream: Database.Statement<[string], Row>;
  private readonly byStreamFrom: Database.Statement<[string, bigint, number], Row>;
  /** The events of the streams a JSON array names, by stream and revision. */
  private readonly byStreams: Database.Statement<[string], Row>;
  private snapshots: SqliteSnapshotStore | null = null;
  private readonly fromPosition: Database.Statement<[bigint, number], Row>;
  /** readAll without metadata, rows as arrays: the projection's replay reads a million of these. */
  private readonly fromPositionBare: Database.Statement<[bigint, number], [bigint, string, bigint, string, string]>;
  private readonly head: Database.Statement<[], { position: bigint | null }>;
  private readonly commitBatch: (batch: PendingAppend[]) => Array<AppendResult | ConcurrencyError>;
  private pending: PendingAppend[] = [];
  /** A flush is scheduled or waiting for the lock: new appends join the pending batch. */
  private flushing = false;
  private retryMs = RETRY_MS;
  private readonly writeWaitMs: number;
  private failure: WriteFailure | null = null;

  constructor(
    readonly path: string,
    options: SqliteOptions = {},
  ) {
    this.writeWaitMs = options.writeWaitMs ?? 30_000;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      // Opening (WAL switch, schema) may wait for the lock the ordinary way: nothing is served yet.
      this.db = new Database(path, { timeout: this.writeWaitMs });
      // Snapshots (which hold a password hash) are deleted on a password change or an erasure:
      // their bytes must not stay behind in free pages (docs/privacy.md).
      this.db.pragma('secure_delete = ON');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.migrate();
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    } catch (error) {
      throw new StoreUnavailableError(`TOKENLEDGER_STORE: cannot open SQLite file ${path}: ${(error as Error).message}`);
    }
    this.lastRevision = this.db.prepare('SELECT MAX(revision) AS revision FROM events WHERE stream_id = ?').safeIntegers(true) as never;
    this.insert = this.db.prepare('INSERT INTO events (stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)');
    this.byStream = this.db.prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY revision').safeIntegers(true) as never;
    this.byStreamFrom = this.db
      .prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?')
      .safeIntegers(true) as never;
    this.byStreams = this.db
      .prepare('SELECT * FROM events WHERE stream_id IN (SELECT value FROM json_each(?)) ORDER BY stream_id, revision')
      .safeIntegers(true) as never;
    this.fromPosition = this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?').safeIntegers(true) as never;
    this.fromPositionBare = this.db
      .prepare('SELECT position, stream_id, revision, type, data FROM events WHERE position > ? ORDER BY position LIMIT ?')
      .safeIntegers(true)
      .raw(true) as never;
    this.head = this.db.prepare('SELECT MAX(position) AS position FROM events').safeIntegers(true) as never;
    const appendOne = (streamId: string, events: NewEvent[], expected: ExpectedState): AppendResult | ConcurrencyError => {
      const current = this.lastRevision.get(streamId)?.revision ?? null;
      const actual = current === null ? 'no_stream' : current;
      if (!satisfies(expected, actual)) return new ConcurrencyError(streamId, expected, actual);
      let revision = current === null ? -1n : current;
      let position = 0n;
      for (const event of events) {
        revision += 1n;
        const info = this.insert.run(streamId, revision, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
        position = BigInt(info.lastInsertRowid);
      }
      return { nextExpectedRevision: revision, position };
    };
    const tx = this.db.transaction((batch: PendingAppend[]) => batch.map((a) => appendOne(a.streamId, a.events, a.expected)));
    this.commitBatch = (batch) => tx.immediate(batch);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    this.db.exec(`
      BEGIN IMMEDIATE;
      CREATE TABLE IF NOT EXISTS events (
        position  INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT    NOT NULL,
        revision  INTEGER NOT NULL,
        type      TEXT    NOT NULL,
        data      TEXT    NOT NULL,
        metadata  TEXT    NOT NULL,
        UNIQUE (stream_id, revision)
      );
      ${SQLITE_SNAPSHOTS_DDL}
      PRAGMA user_version = ${SCHEMA_VERSION};
      COMMIT;
    `);
  }

  /**
   * Group commit: appends that arrive in the same turn of the event loop share one transaction
   * and so one fsync. Each keeps its own expected-state check (a refused one writes nothing and
   * does not affect the others), and none resolves before the commit is on disk.
   */
  append(streamId: string, events: NewEvent[], expected: ExpectedState): Promise<AppendResult> {
    if (events.length === 0) return Promise.reject(new Error('append needs at least one event'));
    return new Promise((resolve, reject) => {
      this.pending.push({ streamId, events, expected, deadline: performance.now() + this.writeWaitMs, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** The last append that failed for a reason other than a conflict, unless one succeeded since. */
  lastWriteFailure(): WriteFailure | null {
    return this.failure;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    let results: Array<AppendResult | ConcurrencyError>;
    try {
      results = this.commitBatch(batch);
    } catch (error) {
      if (isBusy(error) && this.db.open) {
        // Someone else holds the lock: give up on the appends past their deadline, keep the
        // others (in front of any that arrived meanwhile) and try again on a timer.
        const now = performance.now();
        const waiting = batch.filter((append) => append.deadline > now);
        if (waiting.length < batch.length) {
          const failure = this.fail(`the SQLite log at ${this.path} stayed locked by another connection for ${this.writeWaitMs} ms`);
          for (const append of batch) if (append.deadline <= now) append.reject(failure);
        }
        this.pending = waiting.concat(this.pending);
        if (this.pending.length === 0) return this.done();
        const delay = this.retryMs;
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        setTimeout(() => this.flush(), delay);
        return;
      }
      const failure = this.fail(`SQLite append failed: ${(error as Error).message}`);
      for (const append of batch) append.reject(failure);
      return this.done();
    }
    this.failure = null;
    this.retryMs = RETRY_MS;
    this.done();
    batch.forEach((append, i) => {
      const result = results[i]!;
      if (result instanceof ConcurrencyError) append.reject(result);
      else append.resolve(result);
    });
  }

  private fail(message: string): StoreUnavailableError {
    this.failure = { at: Date.now(), message };
    return new StoreUnavailableError(`TOKENLEDGER_STORE: ${message}`);
  }

  /** The batch is settled: appends that arrived meanwhile get a flush of their own. */
  private done(): void {
    this.flushing = this.pending.length > 0;
    if (this.flushing) setImmediate(() => this.flush());
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromRevision ?? 0n;
    const whole = from === 0n && options.limit === undefined;
    return (whole ? this.byStream.all(streamId) : this.byStreamFrom.all(streamId, from, options.limit ?? -1)).map(toRecorded);
  }

  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const found = new Map<string, RecordedEvent[]>();
    if (streamIds.length === 0) return found;
    for (const row of this.byStreams.all(JSON.stringify(streamIds))) {
      const events = found.get(row.stream_id);
      if (events) events.push(toRecorded(row));
      else found.set(row.stream_id, [toRecorded(row)]);
    }
    return found;
  }

  /** Snapshots in this file's `snapshots` table (one store per connection). */
  snapshotStore(): SnapshotStore {
    this.snapshots ??= new SqliteSnapshotStore(this.db);
    return this.snapshots;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? 0n;
    const limit = options.limit ?? -1;
    if (options.metadata !== false) return this.fromPosition.all(after, limit).map(toRecorded);
    return this.fromPositionBare.all(after, limit).map(([position, streamId, revision, type, data]) => ({
      streamId,
      revision,
      position,
      type,
      data: JSON.parse(data),
      metadata: {},
    }));
  }

  async headPosition(): Promise<bigint> {
    return this.head.get()?.position ?? 0n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

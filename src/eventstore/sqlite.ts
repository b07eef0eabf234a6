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
} from './port.js';

const SCHEMA_VERSION = 1;

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
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
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
 * Appends take the write lock up front (BEGIN IMMEDIATE), so processes racing on one file queue
 * up on `busy_timeout` instead of failing.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly lastRevision: Database.Statement<[string], { revision: bigint | null }>;
  private readonly insert: Database.Statement<[string, bigint, string, string, string]>;
  private readonly byStream: Database.Statement<[string], Row>;
  private readonly fromPosition: Database.Statement<[bigint, number], Row>;
  /** readAll without metadata, rows as arrays: the projection's replay reads a million of these. */
  private readonly fromPositionBare: Database.Statement<[bigint, number], [bigint, string, bigint, string, string]>;
  private readonly head: Database.Statement<[], { position: bigint | null }>;
  private readonly commitBatch: (batch: PendingAppend[]) => Array<AppendResult | ConcurrencyError>;
  private pending: PendingAppend[] = [];

  constructor(readonly path: string) {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { timeout: 30_000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.migrate();
    } catch (error) {
      throw new StoreUnavailableError(`TOKENLEDGER_STORE: cannot open SQLite file ${path}: ${(error as Error).message}`);
    }
    this.lastRevision = this.db.prepare('SELECT MAX(revision) AS revision FROM events WHERE stream_id = ?').safeIntegers(true) as never;
    this.insert = this.db.prepare('INSERT INTO events (stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)');
    this.byStream = this.db.prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY revision').safeIntegers(true) as never;
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
      if (this.pending.push({ streamId, events, expected, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    let results: Array<AppendResult | ConcurrencyError>;
    try {
      results = this.commitBatch(batch);
    } catch (error) {
      const failure = new StoreUnavailableError(`TOKENLEDGER_STORE: SQLite append failed: ${(error as Error).message}`);
      for (const append of batch) append.reject(failure);
      return;
    }
    batch.forEach((append, i) => {
      const result = results[i]!;
      if (result instanceof ConcurrencyError) append.reject(result);
      else append.resolve(result);
    });
  }

  async readStream(streamId: string): Promise<RecordedEvent[]> {
    return this.byStream.all(streamId).map(toRecorded);
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

import pg from 'pg';
import { Listener, Notifier } from './postgres-listen.js';
import { CONFLICT_SQLSTATE, POSITIONS_PER_TRANSACTION, migrations, q, readAllSql, type SchemaNames } from './postgres-schema.js';
import {
  ConcurrencyError,
  StoreUnavailableError,
  type AppendResult,
  type EventStore,
  type ExpectedState,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
} from './port.js';
import { PostgresSnapshotStore } from './postgres-snapshots.js';
import type { SnapshotStore, WithSnapshots } from './snapshots.js';

const DEFAULT_SCHEMA = 'tokenledger';
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;
const MAX_EVENTS_PER_APPEND = Number(POSITIONS_PER_TRANSACTION) - 1;
/** How long readAll waits for in-flight appends below the newest committed event before returning the safe prefix. */
const HORIZON_WAIT_MS = 250;

interface Row {
  position: string;
  stream_id: string;
  revision: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  below?: string;
  settled?: boolean;
}

const toRecorded = (row: Row): RecordedEvent => ({
  streamId: row.stream_id,
  revision: BigInt(row.revision),
  position: BigInt(row.position),
  type: row.type,
  data: row.data,
  metadata: row.metadata,
});

/** Driver errors that mean "the server is not there (or will not have us)", not "this statement is wrong". */
function isConnectionError(error: unknown): boolean {
  const { code, syscall, message } = error as { code?: unknown; syscall?: unknown; message?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|28|3D|53|57)/.test(code);
  if (syscall !== undefined) return true; // ECONNREFUSED, ENOTFOUND, ECONNRESET…
  return /connection|timeout exceeded when trying to connect/i.test(String(message));
}

/** FNV-1a, folded to a positive int4: the schema's half of the appender lock key. */
function lockKeyOf(schema: string): number {
  let hash = 0x811c9dc5;
  for (const char of Buffer.from(schema)) hash = Math.imul(hash ^ char, 0x01000193);
  return (hash >>> 0) & 0x7fffffff;
}

/**
 * The PostgreSQL event store (`TOKENLEDGER_STORE=postgres://user@host/db?schema=name`).
 *
 * Positions are `transaction id × 10⁴ + index`, so they are unique and ordered, not dense.
 * Appends run concurrently (PostgreSQL groups their commits), and readAll never returns a
 * position while an append with a lower one may still commit: it reads only below the oldest
 * transaction that was in flight and may be an appender of this schema.
 */
export class PostgresEventStore implements EventStore, WithSnapshots {
  private readonly listener: Listener;
  private readonly notifier: Notifier;
  /** Every statement, prepared once per connection under a per-schema name (readAll is planned once, not on every poll). */
  private readonly sql: Record<'append' | 'lastRevision' | 'readStream' | 'readStreamFrom' | 'readAll' | 'head', pg.QueryConfig>;
  private snapshots: PostgresSnapshotStore | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly names: SchemaNames,
    private readonly where: string,
    config: pg.PoolConfig,
  ) {
    const channel = `tokenledger:${names.schema}`;
    const events = `${q(names.schema)}.events`;
    const statement = (name: string, text: string): pg.QueryConfig => ({ name: `tokenledger.${names.schema}.${name}`, text });
    this.sql = {
      append: statement('append', `SELECT * FROM ${q(names.schema)}.append($1, $2, $3, $4, $5)`),
      lastRevision: statement('lastRevision', `SELECT max(revision) AS r FROM ${events} WHERE stream_id = $1`),
      readStream: statement('readStream', `SELECT * FROM ${events} WHERE stream_id = $1 ORDER BY revision`),
      readStreamFrom: statement('readStreamFrom', `SELECT * FROM ${events} WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`),
      readAll: statement('readAll', readAllSql(names)),
      head: statement('head', `SELECT max(position) AS p FROM ${events}`),
    };
    this.notifier = new Notifier(pool, channel);
    this.listener = new Listener(config, channel);
  }

  /** Connects, creates or upgrades the schema, and fails with one clear line when it cannot. */
  static async open(url: string): Promise<PostgresEventStore> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new StoreUnavailableError('TOKENLEDGER_STORE: not a valid postgres:// URL');
    }
    const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA;
    if (!SCHEMA_PATTERN.test(schema)) {
      throw new StoreUnavailableError(`TOKENLEDGER_STORE: schema "${schema.slice(0, 64)}" must be lower-case letters, digits and _ (at most 48)`);
    }
    const poolSize = Number(parsed.searchParams.get('pool') ?? 10);
    for (const key of ['schema', 'pool']) parsed.searchParams.delete(key);
    const where = `${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname}`;
    const config: pg.PoolConfig = {
      connectionString: parsed.toString(),
      max: Number.isInteger(poolSize) && poolSize > 0 ? poolSize : 10,
      connectionTimeoutMillis: 5_000,
      application_name: 'tokenledger',
    };
    const pool = new pg.Pool(config);
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    const store = new PostgresEventStore(pool, { schema, lockKey: lockKeyOf(schema) }, where, config);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end().catch(() => {});
      const translated = store.translate(error);
      if (translated !== error || error instanceof StoreUnavailableError) throw translated;
      throw new StoreUnavailableError(`TOKENLEDGER_STORE: cannot set up schema "${schema}" in PostgreSQL at ${where}: ${(error as Error).message}`);
    }
    return store;
  }

  private unavailable(error: unknown): StoreUnavailableError {
    return new StoreUnavailableError(`TOKENLEDGER_STORE: cannot reach PostgreSQL at ${this.where}: ${(error as Error).message}`);
  }

  private translate(error: unknown): unknown {
    if (error instanceof StoreUnavailableError || error instanceof ConcurrencyError) return error;
    return isConnectionError(error) ? this.unavailable(error) : error;
  }

  private async query<R extends pg.QueryResultRow>(statement: pg.QueryConfig, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>({ ...statement, values })).rows;
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Runs the migrations this database lacks, one process at a time (many CLI processes may start at once). */
  private async migrate(): Promise<void> {
    const s = q(this.names.schema);
    const steps = migrations(this.names);
    const current = async (client: pg.PoolClient): Promise<number> => {
      const exists = await client.query(`SELECT to_regclass($1) AS t`, [`${s}.schema_version`]);
      if (exists.rows[0].t === null) return 0;
      return (await client.query(`SELECT coalesce(max(version), 0) AS v FROM ${s}.schema_version`)).rows[0].v;
    };
    const client = await this.pool.connect();
    try {
      if ((await current(client)) === steps.length) return;
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [0x544d, this.names.lockKey]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const version = await current(client);
      if (version > steps.length) {
        throw new StoreUnavailableError(
          `TOKENLEDGER_STORE: schema "${this.names.schema}" is at version ${version}, newer than this tokenledger (${steps.length}); upgrade tokenledger`,
        );
      }
      for (let v = version; v < steps.length; v++) {
        await client.query(steps[v]!);
        await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [v + 1]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async append(streamId: string, events: NewEvent[], expected: ExpectedState): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    if (events.length > MAX_EVENTS_PER_APPEND) throw new Error(`append takes at most ${MAX_EVENTS_PER_APPEND} events`);
    const args = [
      streamId,
      String(expected),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.data ?? null)),
      events.map((e) => JSON.stringify(e.metadata)),
    ];
    for (;;) {
      try {
        const rows = await this.pool.query({ ...this.sql.append, values: args });
        const row = rows.rows[0] as { next_revision: string; last_position: string };
        this.notifier.poke();
        return { nextExpectedRevision: BigInt(row.next_revision), position: BigInt(row.last_position) };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === CONFLICT_SQLSTATE) {
          const actual = (error as Error).message;
          throw new ConcurrencyError(streamId, expected, actual === 'no_stream' ? 'no_stream' : BigInt(actual));
        }
        // unique_violation: a concurrent append took the same revision after our check. Only a
        // loose expectation ("any", "stream_exists") can still be met: try again on the new head.
        if (code === '23505') {
          if (expected === 'any' || expected === 'stream_exists') continue;
          throw new ConcurrencyError(streamId, expected, await this.lastRevision(streamId));
        }
        throw this.translate(error);
      }
    }
  }

  private async lastRevision(streamId: string): Promise<bigint | 'no_stream'> {
    const rows = await this.query<{ r: string | null }>(this.sql.lastRevision, [streamId]);
    return rows[0]?.r == null ? 'no_stream' : BigInt(rows[0].r);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromRevision ?? 0n;
    const whole = from === 0n && options.limit === undefined;
    // LIMIT NULL is LIMIT ALL.
    const rows = whole
      ? await this.query<Row>(this.sql.readStream, [streamId])
      : await this.query<Row>(this.sql.readStreamFrom, [streamId, String(from), options.limit ?? null]);
    return rows.map(toRecorded);
  }

  /** Snapshots in this schema's `snapshots` table. */
  snapshotStore(): SnapshotStore {
    this.snapshots ??= new PostgresSnapshotStore(this.pool, this.names.schema);
    return this.snapshots;
  }

  /**
   * Events after a position, never past an append that may still commit below them. A horizon
   * held back by a transaction that ended while we read is asked again at once. One held back by
   * an append still in flight: a non-empty prefix is returned (the caller comes back); an empty
   * one waits briefly (appends take milliseconds). Either way subscribers are woken again soon,
   * so a follower never stalls behind a writer that died before it could NOTIFY.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = Math.min(options.limit ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1);
    const deadline = Date.now() + HORIZON_WAIT_MS;
    for (let pause = 1; ; ) {
      const rows = await this.query<Row>(this.sql.readAll, [String(options.after ?? 0n), String(limit + 1)]);
      const below = rows.length > 0 ? BigInt(rows[0]!.below!) : 0n;
      const safe = rows.filter((row) => BigInt(row.position) < below).slice(0, limit).map(toRecorded);
      if (safe.length === limit || safe.length === rows.length) return safe;
      if (rows[0]!.settled && Date.now() < deadline) continue;
      if (safe.length > 0 || Date.now() >= deadline) {
        this.listener.wakeSoon();
        return safe;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 32);
    }
  }

  async headPosition(): Promise<bigint> {
    const rows = await this.query<{ p: string | null }>(this.sql.head);
    return rows[0]?.p == null ? 0n : BigInt(rows[0].p);
  }

  /**
   * Calls `onAppend` after new events may have become readable: on NOTIFY from any process's
   * append, after the listening connection comes back (events may have been missed), and after
   * a readAll that had to stop short of an in-flight append.
   */
  subscribe(onAppend: () => void): () => void {
    return this.listener.add(onAppend);
  }

  async close(): Promise<void> {
    await this.notifier.flush();
    await this.listener.close();
    await this.pool.end();
  }
}

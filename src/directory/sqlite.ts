import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { directoryOps, scopeKey, searchKey, type DirectoryOp } from '../../projections/directory.js';
import type { RecordedEvent } from '../eventstore/port.js';
import { pageOf } from './cursor.js';
import {
  DirectoryGapError,
  DirectoryUnavailableError,
  type DigestHolder,
  type DirectoryCounts,
  type DirectoryDump,
  type DirectoryStore,
  type DirectoryToken,
  type DirectoryUser,
  type Page,
  type TokenQuery,
  type UserQuery,
} from './port.js';
import {
  countsParams,
  countsSql,
  DEFAULT_EXPIRING_MS,
  TOKEN_SELECT,
  tokenKey,
  tokenOfRow,
  tokensQuery,
  userKey,
  userOfRow,
  usersQuery,
  type Dialect,
  type TokenRow,
  type UserRow,
} from './sql.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checkpoint INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO meta (id, checkpoint) VALUES (1, 0);
  CREATE TABLE IF NOT EXISTS users (
    stream_id    TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    username     TEXT    NOT NULL,
    username_key TEXT    NOT NULL,
    active       INTEGER NOT NULL,
    is_staff     INTEGER NOT NULL,
    is_superuser INTEGER NOT NULL,
    has_password INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    erased       INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS users_order ON users (username, stream_id);
  CREATE TABLE IF NOT EXISTS tokens (
    stream_id       TEXT    NOT NULL,
    token_id        TEXT    NOT NULL,
    username        TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    format          TEXT    NOT NULL,
    key_prefix      TEXT    NOT NULL,
    digest          TEXT    NOT NULL,
    previous_digest TEXT,
    scopes          TEXT    NOT NULL,
    scope_key       TEXT    NOT NULL,
    description     TEXT,
    created_at      TEXT    NOT NULL,
    expires_at      TEXT,
    last_rotated_at TEXT,
    grace_until     TEXT,
    revoked_at      TEXT,
    revoke_reason   TEXT,
    erased          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream_id, token_id)
  );
  CREATE INDEX IF NOT EXISTS tokens_order ON tokens (username, created_at, token_id);
  CREATE INDEX IF NOT EXISTS tokens_live_name ON tokens (stream_id, name) WHERE revoked_at IS NULL;
  CREATE INDEX IF NOT EXISTS tokens_name ON tokens (name);
  CREATE TABLE IF NOT EXISTS digests (
    digest    TEXT PRIMARY KEY,
    stream_id TEXT NOT NULL,
    token_id  TEXT NOT NULL
  ) WITHOUT ROWID;
  PRAGMA user_version = ${SCHEMA_VERSION};
`;

const dialect: Dialect = { table: (name) => name, bool: (value) => (value ? 1 : 0) };

type Statement = Database.Statement<unknown[]>;

/**
 * The directory in a SQLite database of its own (never the log's file, so the log's writers never
 * wait on the directory's writer). WAL mode; `synchronous = NORMAL`, since the directory is derived
 * data: a transaction lost to a power cut takes its checkpoint with it, and the projector applies
 * those events again. Tables are made on first open.
 */
export class SqliteDirectory implements DirectoryStore {
  readonly backend = 'sqlite';
  readonly where: string;
  private readonly db: Database.Database;
  private readonly statements: Record<string, Statement>;
  private readonly applyTx: (events: RecordedEvent[], after: bigint | undefined) => void;

  constructor(readonly path: string) {
    this.where = `sqlite:${path}`;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { timeout: 60_000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // An erased user's rows leave no bytes behind in the file's free pages.
      this.db.pragma('secure_delete = ON');
      // 64 MB of page cache: a rebuild touches every token index page again and again.
      this.db.pragma('cache_size = -65536');
      if ((this.db.pragma('user_version', { simple: true }) as number) < SCHEMA_VERSION) {
        this.db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
      }
      // Covering index for username search: LIKE on username_key in username order, no table lookups.
      this.db.exec('CREATE INDEX IF NOT EXISTS users_search ON users (username, stream_id, username_key)');
    } catch (error) {
      throw new DirectoryUnavailableError(`TOKENLEDGER_DIRECTORY: cannot open SQLite file ${path}: ${(error as Error).message}`);
    }
    const prepare = (sql: string) => this.db.prepare(sql) as Statement;
    this.statements = {
      checkpoint: prepare('SELECT checkpoint FROM meta WHERE id = 1').safeIntegers(true) as Statement,
      setCheckpoint: prepare('UPDATE meta SET checkpoint = ? WHERE id = 1'),
      register: prepare(
        `INSERT INTO users (stream_id, user_id, username, username_key, active, is_staff, is_superuser, has_password, created_at, erased)
         VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 0)
         ON CONFLICT (stream_id) DO UPDATE SET user_id = excluded.user_id, username = excluded.username,
           username_key = excluded.username_key, active = 1, is_staff = excluded.is_staff, is_superuser = excluded.is_superuser,
           has_password = excluded.has_password, created_at = excluded.created_at, erased = 0`,
      ),
      revokeAll: prepare('UPDATE tokens SET revoked_at = ? WHERE stream_id = ? AND revoked_at IS NULL'),
      revokeByName: prepare('UPDATE tokens SET revoked_at = ?, revoke_reason = ? WHERE stream_id = ? AND name = ? AND revoked_at IS NULL'),
      issue: prepare(
        `INSERT OR REPLACE INTO tokens (stream_id, token_id, username, name, kind, format, key_prefix, digest, previous_digest, scopes,
           scope_key, description, created_at, expires_at, last_rotated_at, grace_until, revoked_at, revoke_reason, erased)
         SELECT ?, ?, username, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, 0 FROM users WHERE stream_id = ?`,
      ),
      digest: prepare('INSERT OR IGNORE INTO digests (digest, stream_id, token_id) SELECT ?, stream_id, token_id FROM tokens WHERE stream_id = ? AND token_id = ?'),
      rotate: prepare(
        `UPDATE tokens SET digest = ?, key_prefix = ?, previous_digest = ?, grace_until = ?, last_rotated_at = ?
         WHERE stream_id = ? AND name = ? AND revoked_at IS NULL RETURNING token_id`,
      ),
      eraseUser: prepare('DELETE FROM users WHERE stream_id = ?'),
      eraseTokens: prepare('DELETE FROM tokens WHERE stream_id = ?'),
      holder: prepare('SELECT stream_id, token_id FROM digests WHERE digest = ?'),
      streamOf: prepare('SELECT stream_id FROM users WHERE username = ? AND erased = 0 LIMIT 1'),
      streamsWithToken: prepare('SELECT DISTINCT stream_id FROM tokens WHERE (name = ? OR token_id = ?) AND erased = 0 ORDER BY stream_id LIMIT ?'),
    };
    const patchUser = new Map<string, Statement>();
    const patch = (op: Extract<DirectoryOp, { op: 'patchUser' }>) => {
      const columns = Object.keys(op.set).sort();
      const id = columns.join(',');
      let statement = patchUser.get(id);
      if (!statement) {
        const names: Record<string, string> = { active: 'active', isStaff: 'is_staff', isSuperuser: 'is_superuser', hasPassword: 'has_password' };
        statement = prepare(`UPDATE users SET ${columns.map((c) => `${names[c]} = ?`).join(', ')} WHERE stream_id = ?`);
        patchUser.set(id, statement);
      }
      const set = op.set as Record<string, boolean>;
      statement.run(...columns.map((c) => (set[c] ? 1 : 0)), op.streamId);
    };
    const s = this.statements;
    const run = (op: DirectoryOp) => {
      switch (op.op) {
        case 'register':
          s.revokeAll!.run(op.at, op.streamId);
          s.register!.run(op.streamId, op.userId, op.username, searchKey(op.username), op.isStaff ? 1 : 0, op.isSuperuser ? 1 : 0, op.hasPassword ? 1 : 0, op.at);
          return;
        case 'patchUser':
          return patch(op);
        case 'issue':
          // A live token of the same name is replaced, as the user's fold replaces it.
          s.revokeByName!.run(op.at, null, op.streamId, op.name);
          s.issue!.run(op.streamId, op.tokenId, op.name, op.kind, op.format, op.keyPrefix, op.digest, JSON.stringify(op.scopes),
            scopeKey(op.scopes), op.description, op.at, op.expiresAt, op.streamId);
          s.digest!.run(op.digest, op.streamId, op.tokenId);
          return;
        case 'rotate': {
          const row = s.rotate!.get(op.digest, op.keyPrefix, op.previousDigest, op.graceUntil, op.at, op.streamId, op.name) as { token_id: string } | undefined;
          if (row) s.digest!.run(op.digest, op.streamId, row.token_id);
          return;
        }
        case 'revoke':
          s.revokeByName!.run(op.at, op.reason, op.streamId, op.name);
          return;
        case 'erase':
          s.eraseUser!.run(op.streamId);
          s.eraseTokens!.run(op.streamId);
          return;
      }
    };
    this.applyOps = (events) => {
      for (const event of events) for (const op of directoryOps(event)) run(op);
    };
    const apply = this.db.transaction((events: RecordedEvent[], after: bigint | undefined) => {
      const checkpoint = this.readCheckpoint();
      if (after !== undefined && checkpoint < after) throw new DirectoryGapError(checkpoint, after);
      const fresh = events.filter((event) => event.position > checkpoint);
      if (fresh.length === 0) return;
      this.applyOps(fresh);
      s.setCheckpoint!.run(fresh.at(-1)!.position);
    });
    this.applyTx = (events, after) => {
      apply.immediate(events, after);
      // An erasure's old page images sit in the WAL until it is checkpointed: copy them back (over
      // secure_delete's zeros) and truncate the WAL now, not some time later (docs/privacy.md).
      if (events.some((event) => event.type === 'UserDeleted')) this.db.pragma('wal_checkpoint(TRUNCATE)');
    };
  }

  private readonly applyOps: (events: RecordedEvent[]) => void;

  private readCheckpoint(): bigint {
    return (this.statements.checkpoint!.get() as { checkpoint: bigint }).checkpoint;
  }

  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof DirectoryGapError || !(error instanceof Database.SqliteError)) throw error;
      throw new DirectoryUnavailableError(`TOKENLEDGER_DIRECTORY: ${what} failed: ${error.message}`);
    }
  }

  async checkpoint(): Promise<bigint> {
    return this.guard('reading the checkpoint', () => this.readCheckpoint());
  }

  async apply(events: RecordedEvent[], after?: bigint): Promise<void> {
    if (events.length === 0) return;
    this.guard('applying events', () => this.applyTx(events, after));
  }

  async rebuild(batches: AsyncIterable<RecordedEvent[]>, onBatch?: (events: number) => void): Promise<{ events: number; checkpoint: bigint }> {
    // One transaction from the first DELETE to the last row: other connections read the old
    // directory meanwhile (WAL), and a rebuild that fails leaves it as it was.
    this.guard('starting the rebuild', () => this.db.exec('BEGIN IMMEDIATE'));
    let count = 0;
    let checkpoint = 0n;
    try {
      this.db.exec('DELETE FROM users; DELETE FROM tokens; DELETE FROM digests; UPDATE meta SET checkpoint = 0 WHERE id = 1;');
      for await (const batch of batches) {
        this.applyOps(batch);
        count += batch.length;
        checkpoint = batch.at(-1)!.position;
        onBatch?.(count);
      }
      this.statements.setCheckpoint!.run(checkpoint);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      if (error instanceof Database.SqliteError) throw new DirectoryUnavailableError(`TOKENLEDGER_DIRECTORY: rebuild failed: ${error.message}`);
      throw error;
    }
    return { events: count, checkpoint };
  }

  async listUsers(query: UserQuery): Promise<Page<DirectoryUser>> {
    const built = usersQuery(dialect, query);
    const rows = this.guard('listing users', () => this.db.prepare(built.sql).all(...built.params) as UserRow[]);
    const page = pageOf('users', rows, built.limit, built.cursor, userKey);
    return { ...page, results: page.results.map(userOfRow) };
  }

  async listTokens(query: TokenQuery & { now: string }): Promise<Page<DirectoryToken>> {
    const built = tokensQuery(dialect, query);
    const rows = this.guard('listing tokens', () => this.db.prepare(built.sql).all(...built.params) as TokenRow[]);
    const page = pageOf('tokens', rows, built.limit, built.cursor, tokenKey);
    return { ...page, results: page.results.map((row) => tokenOfRow(row, query.now)) };
  }

  async counts(now: string, withinMs = DEFAULT_EXPIRING_MS): Promise<DirectoryCounts> {
    const sql = countsSql(dialect);
    const params = countsParams(dialect, now, withinMs);
    return this.guard('counting', () => {
      const users = this.db.prepare(sql.users).get(...params.users) as Record<string, number>;
      const tokens = this.db.prepare(sql.tokens).get(...params.tokens) as Record<string, number>;
      return {
        users: { total: users.total!, active: users.active!, staff: users.staff! },
        tokens: { live: tokens.live!, grace: tokens.grace!, expired: tokens.expired!, revoked: tokens.revoked!, expiring: tokens.expiring! },
      };
    });
  }

  async holderOf(digest: string): Promise<DigestHolder | null> {
    const row = this.guard('reading the digest history', () => this.statements.holder!.get(digest) as { stream_id: string; token_id: string } | undefined);
    return row ? { streamId: row.stream_id, tokenId: row.token_id } : null;
  }

  async streamOf(username: string): Promise<string | null> {
    const row = this.guard('finding a user', () => this.statements.streamOf!.get(username) as { stream_id: string } | undefined);
    return row?.stream_id ?? null;
  }

  async streamsWithToken(nameOrId: string, limit: number): Promise<string[]> {
    const rows = this.guard('finding a token', () => this.statements.streamsWithToken!.all(nameOrId, nameOrId, limit) as { stream_id: string }[]);
    return rows.map((row) => row.stream_id);
  }

  async dump(): Promise<DirectoryDump> {
    const users = this.db
      .prepare('SELECT u.*, (SELECT count(*) FROM tokens t WHERE t.stream_id = u.stream_id AND t.revoked_at IS NULL) AS tokens FROM users u ORDER BY username, stream_id')
      .all() as (UserRow & { erased: number })[];
    const tokens = this.db.prepare(`SELECT ${TOKEN_SELECT} FROM tokens t ORDER BY username, created_at, token_id`).all() as TokenRow[];
    const digests = this.db.prepare('SELECT * FROM digests ORDER BY digest').all() as { digest: string; stream_id: string; token_id: string }[];
    return {
      checkpoint: this.readCheckpoint(),
      users: users.map((row) => ({ ...userOfRow(row), streamId: row.stream_id })),
      tokens: tokens.map((row) => {
        const { status: _status, ...token } = tokenOfRow(row, '');
        return { ...token, streamId: row.stream_id, digest: row.digest, previousDigest: row.previous_digest, revokeReason: row.revoke_reason };
      }),
      digests: digests.map((row) => ({ digest: row.digest, streamId: row.stream_id, tokenId: row.token_id })),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

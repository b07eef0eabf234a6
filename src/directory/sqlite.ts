import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  directoryOps,
  batchOps,
  foldDirectoryOps,
  scopeKey,
  searchKey,
  type DirectoryOp,
  type DirectoryTokenRow,
  type StoredRows,
  type StreamRows,
} from '../../projections/directory.js';
import type { RecordedEvent } from '../eventstore/port.js';
import { pageOf } from './cursor.js';
import {
  DEFAULT_PAGE,
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
  prefixBound,
  statusRange,
  tokensQuery,
  tokenStatusFilter,
  userKey,
  userOfRow,
  keyGrams,
  userQueryGrams,
  usersQuery,
  type Dialect,
  type TokenPlan,
  type UserPlan,
  type TokenRow,
  type UserRow,
} from './sql.js';

const SCHEMA_VERSION = 5;

/** PRAGMA temp_store values: 2 keeps temporary tables, indexes and statement journals in memory, 1 in files. */
const TEMP_IN_MEMORY = 2;
const TEMP_IN_FILES = 1;

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
`;

/** Version 3: the key-prefix filter (support staff paste the 8 characters lists show) reads an index range. */
const SCHEMA_V3 = `
  CREATE INDEX IF NOT EXISTS tokens_prefix ON tokens (key_prefix);
  PRAGMA user_version = 3;
`;

/**
 * Version 4: user_grams is kept by the projector's own statements (keyGrams), not by triggers on
 * users: a trigger's recursive CTE, its DISTINCT and the statement journal it needs were a third of
 * the cost of applying a new user. Only the projector's apply and the rebuild (which refills the
 * side tables in bulk) write users. And users_order goes: users_search (username, stream_id,
 * username_key) serves the same order, so each new user wrote one index for nothing.
 */
const SCHEMA_V4 = `
  DROP INDEX IF EXISTS users_order;
  DROP TRIGGER IF EXISTS users_grams_insert;
  DROP TRIGGER IF EXISTS users_grams_update;
  DROP TRIGGER IF EXISTS users_grams_delete;
  PRAGMA user_version = 4;
`;

/**
 * Version 5: new users' grams go to user_grams_new, a small table of the same shape, merged into
 * user_grams in one sorted insert once it holds GRAMS_MERGE_ROWS rows. Inserted one user at a time
 * into user_grams, whose pages they scatter over, each transaction rewrote most of that index into
 * the WAL (a directory of 480,000 users: ~60 MB per transaction of 3,500 users), and those writes and
 * their checkpoints' fsyncs slowed the log's commits on the same disk. A search reads both tables'
 * posting lists in list order and merges them.
 */
const SCHEMA_V5 = `
  CREATE TABLE IF NOT EXISTS user_grams_new (
    gram      TEXT NOT NULL,
    username  TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    PRIMARY KEY (gram, username, stream_id)
  ) WITHOUT ROWID;
  PRAGMA user_version = 5;
`;

/** Rows user_grams_new may hold before they are merged into user_grams (~15,000 users). */
const GRAMS_MERGE_ROWS = 100_000;

/** A search key's trigrams as user_grams holds them (anchored: see GRAM_ANCHOR), for `key` an SQL expression. */
const gramsOf = (key: string) =>
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < length(${key}) - 1) ` +
  `SELECT DISTINCT substr(char(1) || ${key}, i, 3) AS gram FROM n WHERE i <= length(${key}) - 1`;

/**
 * Tables derived from users and tokens that their triggers keep: their bulk refill from users and
 * tokens, run by a rebuild after it loaded those with the triggers dropped, and by the migration
 * to version 2. Rows in each side table's key order, so they are appended to its index.
 */
const DERIVED_REFILL = `
  DELETE FROM user_grams;
  INSERT OR IGNORE INTO user_grams (gram, username, stream_id)
    SELECT substr(char(1) || u.username_key, p.i, 3) AS gram, u.username, u.stream_id FROM users u, (
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < (SELECT max(length(username_key)) FROM users)) SELECT i FROM n
    ) p WHERE p.i <= length(u.username_key) - 1
    ORDER BY 1, 2, 3;
  DELETE FROM token_scopes;
  INSERT OR IGNORE INTO token_scopes (scope, name, username, created_at, token_id, stream_id)
    SELECT j.value, t.name, t.username, t.created_at, t.token_id, t.stream_id FROM tokens t, json_each(t.scopes) j
    WHERE t.scopes <> '[]' ORDER BY 1, 3, 4, 5, 6;
`;

/**
 * Version 2: what the lists filter by is served by an index (docs: DESIGN.md, the directory).
 * - user_grams: the trigrams of each search key (anchored at its start), with the username: a
 *   search reads the posting list of its rarest trigram in list order.
 * - token_scopes: a token's scopes one per row, with what lists sort by and its name.
 * - tokens: the name index in list order; revoked tokens in list order; the time statuses' ranges.
 * - users: the staff and active filters in list order.
 * The side tables are kept by triggers on users and tokens, so whatever writes those rows keeps
 * them; a version-1 directory is migrated in place (its side tables filled from its rows).
 */
const SCHEMA_V2 = `
  CREATE INDEX IF NOT EXISTS users_staff ON users (is_staff, username, stream_id);
  CREATE INDEX IF NOT EXISTS users_active ON users (active, username, stream_id);
  CREATE INDEX IF NOT EXISTS users_staff_active ON users (is_staff, active, username, stream_id);
  CREATE TABLE IF NOT EXISTS user_grams (
    gram      TEXT NOT NULL,
    username  TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    PRIMARY KEY (gram, username, stream_id)
  ) WITHOUT ROWID;
  CREATE TRIGGER IF NOT EXISTS users_grams_insert AFTER INSERT ON users BEGIN
    INSERT OR IGNORE INTO user_grams (gram, username, stream_id) SELECT gram, NEW.username, NEW.stream_id FROM (${gramsOf('NEW.username_key')});
  END;
  CREATE TRIGGER IF NOT EXISTS users_grams_update AFTER UPDATE OF username, username_key ON users
  WHEN OLD.username IS NOT NEW.username OR OLD.username_key IS NOT NEW.username_key BEGIN
    DELETE FROM user_grams WHERE username = OLD.username AND stream_id = OLD.stream_id AND gram IN (${gramsOf('OLD.username_key')});
    INSERT OR IGNORE INTO user_grams (gram, username, stream_id) SELECT gram, NEW.username, NEW.stream_id FROM (${gramsOf('NEW.username_key')});
  END;
  CREATE TRIGGER IF NOT EXISTS users_grams_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_grams WHERE username = OLD.username AND stream_id = OLD.stream_id AND gram IN (${gramsOf('OLD.username_key')});
  END;
  DROP INDEX IF EXISTS tokens_name;
  CREATE INDEX tokens_name ON tokens (name, username, created_at, token_id);
  CREATE INDEX IF NOT EXISTS tokens_revoked ON tokens (username, created_at, token_id) WHERE revoked_at IS NOT NULL;
  CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at) WHERE revoked_at IS NULL AND expires_at IS NOT NULL;
  CREATE INDEX IF NOT EXISTS tokens_grace ON tokens (grace_until, expires_at) WHERE revoked_at IS NULL AND grace_until IS NOT NULL;
  CREATE TABLE IF NOT EXISTS token_scopes (
    scope      TEXT NOT NULL,
    name       TEXT NOT NULL,
    username   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    token_id   TEXT NOT NULL,
    stream_id  TEXT NOT NULL,
    PRIMARY KEY (scope, username, created_at, token_id, stream_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS token_scopes_name ON token_scopes (scope, name, username, created_at, token_id);
  CREATE TRIGGER IF NOT EXISTS tokens_scopes_insert AFTER INSERT ON tokens WHEN NEW.scopes <> '[]' BEGIN
    INSERT OR IGNORE INTO token_scopes (scope, name, username, created_at, token_id, stream_id)
      SELECT j.value, NEW.name, NEW.username, NEW.created_at, NEW.token_id, NEW.stream_id FROM json_each(NEW.scopes) j;
  END;
  CREATE TRIGGER IF NOT EXISTS tokens_scopes_update AFTER UPDATE OF scopes, name, username, created_at, token_id, stream_id ON tokens
  WHEN OLD.scopes IS NOT NEW.scopes OR OLD.name IS NOT NEW.name OR OLD.username IS NOT NEW.username
    OR OLD.created_at IS NOT NEW.created_at OR OLD.token_id IS NOT NEW.token_id OR OLD.stream_id IS NOT NEW.stream_id BEGIN
    DELETE FROM token_scopes WHERE (scope, username, created_at, token_id, stream_id) IN (
      SELECT j.value, OLD.username, OLD.created_at, OLD.token_id, OLD.stream_id FROM json_each(OLD.scopes) j);
    INSERT OR IGNORE INTO token_scopes (scope, name, username, created_at, token_id, stream_id)
      SELECT j.value, NEW.name, NEW.username, NEW.created_at, NEW.token_id, NEW.stream_id FROM json_each(NEW.scopes) j;
  END;
  CREATE TRIGGER IF NOT EXISTS tokens_scopes_delete AFTER DELETE ON tokens WHEN OLD.scopes <> '[]' BEGIN
    DELETE FROM token_scopes WHERE (scope, username, created_at, token_id, stream_id) IN (
      SELECT j.value, OLD.username, OLD.created_at, OLD.token_id, OLD.stream_id FROM json_each(OLD.scopes) j);
  END;
  ${DERIVED_REFILL}
  PRAGMA user_version = 2;
`;

const dialect: Dialect = { table: (name) => name, bool: (value) => (value ? 1 : 0), indexedBy: (index) => ` INDEXED BY ${index}`, lateral: false };

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

  private readonly gramsMergeRows: number;
  private gramsNew: number;

  constructor(
    readonly path: string,
    /** gramsMergeRows: rows user_grams_new holds before its merge into user_grams (default GRAMS_MERGE_ROWS; tests set a few). */
    options: { gramsMergeRows?: number } = {},
  ) {
    this.gramsMergeRows = options.gramsMergeRows ?? GRAMS_MERGE_ROWS;
    this.where = `sqlite:${path}`;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { timeout: 60_000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // An erased user's rows leave no bytes behind in the file's free pages.
      this.db.pragma('secure_delete = ON');
      // The row an INSERT OR REPLACE replaces fires the delete triggers that keep the side tables
      // (none of those triggers writes a table that has triggers: nothing recurses).
      this.db.pragma('recursive_triggers = ON');
      // 64 MB of page cache: a rebuild touches every token index page again and again.
      this.db.pragma('cache_size = -65536');
      // Statement journals in memory: every statement that fires a trigger (a user's search grams,
      // a token's scopes) keeps the pages it changes in one, and written to a temporary file they
      // were half of the projector's time. They hold only the pages one statement touches; the
      // rebuild, whose temporary table and sorts hold the whole log's worth, goes back to files.
      this.db.pragma(`temp_store = ${TEMP_IN_MEMORY}`);
      // A checkpoint every 64 MiB of WAL rather than SQLite's 4 MiB: its fsyncs (the only ones this
      // file makes, at synchronous = NORMAL) wait on the same disk as the log's commits, and a page
      // the projector changes again and again is copied back once per checkpoint. Beside a log
      // taking 35,000 appends/s for 15 s, the log's writers kept 0.81 of their rate at 4 MiB,
      // 0.91 at 64 MiB (bench:queries). An erasure still checkpoints and truncates at once.
      this.db.pragma('wal_autocheckpoint = 16384');
      const version = () => this.db.pragma('user_version', { simple: true }) as number;
      if (version() < SCHEMA_VERSION) {
        // Made, or migrated from version 1, once: another process may have done it meanwhile.
        this.db.exec('BEGIN IMMEDIATE');
        try {
          if (version() < 1) this.db.exec(SCHEMA);
          if (version() < 2) this.db.exec(SCHEMA_V2);
          if (version() < 3) this.db.exec(SCHEMA_V3);
          if (version() < 4) this.db.exec(SCHEMA_V4);
          if (version() < 5) this.db.exec(SCHEMA_V5);
          this.db.exec('COMMIT');
        } catch (error) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw error;
        }
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
      searchKeyOf: prepare('SELECT username, username_key FROM users WHERE stream_id = ?'),
      addGrams: prepare('INSERT OR IGNORE INTO user_grams_new (gram, username, stream_id) SELECT value, ?, ? FROM json_each(?)'),
      dropGrams: prepare('DELETE FROM user_grams WHERE username = ? AND stream_id = ? AND gram IN (SELECT value FROM json_each(?))'),
      dropNewGrams: prepare('DELETE FROM user_grams_new WHERE username = ? AND stream_id = ? AND gram IN (SELECT value FROM json_each(?))'),
      mergeGrams: prepare('INSERT OR IGNORE INTO user_grams (gram, username, stream_id) SELECT gram, username, stream_id FROM user_grams_new ORDER BY gram, username, stream_id'),
      clearNewGrams: prepare('DELETE FROM user_grams_new'),
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
    type SearchKeyRow = { username: string; username_key: string };
    // user_grams follows the users row of a stream (schema version 4).
    const dropGrams = (streamId: string, old: SearchKeyRow | undefined) => {
      if (!old) return;
      const grams = JSON.stringify(keyGrams(old.username_key));
      s.dropGrams!.run(old.username, streamId, grams);
      s.dropNewGrams!.run(old.username, streamId, grams);
    };
    const run = (op: DirectoryOp) => {
      switch (op.op) {
        case 'register': {
          const key = searchKey(op.username);
          const old = s.searchKeyOf!.get(op.streamId) as SearchKeyRow | undefined;
          // A stream without a users row has no tokens (a token is issued from its user's row).
          if (old) s.revokeAll!.run(op.at, op.streamId);
          s.register!.run(op.streamId, op.userId, op.username, key, op.isStaff ? 1 : 0, op.isSuperuser ? 1 : 0, op.hasPassword ? 1 : 0, op.at);
          if (old?.username === op.username && old.username_key === key) return;
          dropGrams(op.streamId, old);
          this.gramsNew += s.addGrams!.run(op.username, op.streamId, JSON.stringify(keyGrams(key))).changes;
          return;
        }
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
          dropGrams(op.streamId, s.searchKeyOf!.get(op.streamId) as SearchKeyRow | undefined);
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
      if (this.gramsNew >= this.gramsMergeRows) {
        s.mergeGrams!.run();
        s.clearNewGrams!.run();
        this.gramsNew = 0;
      }
      s.setCheckpoint!.run(fresh.at(-1)!.position);
    });
    // What this connection has added to user_grams_new since it last saw it merged: counting the
    // table in each transaction cost ~2 ms near the threshold. Other processes' additions only
    // delay a merge (any process may merge at any time: it changes no answer).
    this.gramsNew = (this.db.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM user_grams_new LIMIT ?)').get(this.gramsMergeRows) as { n: number }).n;
    this.applyTx = (events, after) => {
      const before = this.gramsNew;
      try {
        apply.immediate(events, after);
      } catch (error) {
        this.gramsNew = before;
        throw error;
      }
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
    // This connection is inside the rebuild's transaction, on bare tables: the projector retries later.
    if (this.rebuilding) throw new DirectoryUnavailableError('TOKENLEDGER_DIRECTORY: a rebuild is running in this process');
    this.guard('applying events', () => this.applyTx(events, after));
  }

  /** The statements a rebuild writes rows with (prepared on its first use). */
  private rowWriters: Record<string, Statement> | null = null;
  private rebuilding = false;

  private rowStatements(): Record<string, Statement> {
    const prepare = (sql: string) => this.db.prepare(sql) as Statement;
    this.rowWriters ??= {
      // The rows of a batch's streams (a JSON array of stream ids), in one statement each.
      users: prepare(
        'SELECT stream_id, user_id, username, active, is_staff, is_superuser, has_password, created_at FROM users WHERE stream_id IN (SELECT value FROM json_each(?))',
      ).raw(true) as Statement,
      live: prepare(
        `SELECT stream_id, token_id, username, name, kind, format, key_prefix, digest, previous_digest, scopes, description, created_at,
           expires_at, last_rotated_at, grace_until FROM tokens WHERE stream_id IN (SELECT value FROM json_each(?)) AND revoked_at IS NULL`,
      ).raw(true) as Statement,
      upsertUser: prepare(
        `INSERT INTO users (stream_id, user_id, username, username_key, active, is_staff, is_superuser, has_password, created_at, erased)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
         ON CONFLICT (stream_id) DO UPDATE SET user_id = excluded.user_id, username = excluded.username,
           username_key = excluded.username_key, active = excluded.active, is_staff = excluded.is_staff, is_superuser = excluded.is_superuser,
           has_password = excluded.has_password, created_at = excluded.created_at, erased = 0`,
      ),
      upsertToken: prepare(
        `INSERT INTO tokens (stream_id, token_id, username, name, kind, format, key_prefix, digest, previous_digest, scopes,
           scope_key, description, created_at, expires_at, last_rotated_at, grace_until, revoked_at, revoke_reason, erased)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
         ON CONFLICT (stream_id, token_id) DO UPDATE SET username = excluded.username, name = excluded.name, kind = excluded.kind,
           format = excluded.format, key_prefix = excluded.key_prefix, digest = excluded.digest, previous_digest = excluded.previous_digest,
           scopes = excluded.scopes, scope_key = excluded.scope_key, description = excluded.description, created_at = excluded.created_at,
           expires_at = excluded.expires_at, last_rotated_at = excluded.last_rotated_at, grace_until = excluded.grace_until,
           revoked_at = excluded.revoked_at, revoke_reason = excluded.revoke_reason, erased = 0`,
      ),
      // A rebuild's digests, in log order, unindexed: sorted into digests once at the end.
      loadDigest: prepare('INSERT INTO temp.digests_load (digest, stream_id, token_id) VALUES (?, ?, ?)'),
    };
    return this.rowWriters;
  }

  /** The stored rows of streams (user row, tokens not revoked), as the in-memory fold starts from. */
  private loadRows(ids: string[]): Map<string, StoredRows> {
    const r = this.rowStatements();
    const stored = new Map<string, StoredRows>();
    if (ids.length === 0) return stored;
    const list = JSON.stringify(ids);
    // Rows as arrays, in the statements' column order (a million column objects fewer per rebuild).
    for (const [streamId, userId, username, active, isStaff, isSuperuser, hasPassword, createdAt] of r.users!.all(list) as [string, string, string, number, number, number, number, string][]) {
      const user = { streamId, userId, username, active: active === 1, isStaff: isStaff === 1, isSuperuser: isSuperuser === 1, hasPassword: hasPassword === 1, createdAt };
      stored.set(streamId, { user, live: [] });
    }
    for (const row of r.live!.all(list) as (string | null)[][]) {
      const [streamId, tokenId, username, name, kind, format, keyPrefix, digest, previousDigest, scopes, description, createdAt, expiresAt, lastRotatedAt, graceUntil] = row as string[];
      stored.get(streamId!)?.live.push({
        streamId: streamId!,
        tokenId: tokenId!,
        username: username!,
        name: name!,
        kind: kind as DirectoryTokenRow['kind'],
        format: format as DirectoryTokenRow['format'],
        keyPrefix: keyPrefix!,
        digest: digest!,
        previousDigest: previousDigest ?? null,
        scopes: JSON.parse(scopes!) as string[],
        description: description ?? null,
        createdAt: createdAt!,
        expiresAt: expiresAt ?? null,
        lastRotatedAt: lastRotatedAt ?? null,
        graceUntil: graceUntil ?? null,
        revokedAt: null,
        revokeReason: null,
      });
    }
    return stored;
  }

  /** Writes what the fold changed, each row once. */
  private writeRows(streams: Iterable<StreamRows>): void {
    const r = this.rowStatements();
    const s = this.statements;
    for (const rows of streams) {
      if (rows.wiped) {
        s.eraseUser!.run(rows.streamId);
        s.eraseTokens!.run(rows.streamId);
      }
      const u = rows.user;
      if (u !== null && rows.userChanged) {
        r.upsertUser!.run(u.streamId, u.userId, u.username, searchKey(u.username), u.active ? 1 : 0, u.isStaff ? 1 : 0, u.isSuperuser ? 1 : 0, u.hasPassword ? 1 : 0, u.createdAt);
      }
      for (const t of rows.changed.values()) {
        r.upsertToken!.run(t.streamId, t.tokenId, t.username, t.name, t.kind, t.format, t.keyPrefix, t.digest, t.previousDigest, JSON.stringify(t.scopes),
          scopeKey(t.scopes), t.description, t.createdAt, t.expiresAt, t.lastRotatedAt, t.graceUntil, t.revokedAt, t.revokeReason);
      }
    }
  }

  async rebuild(batches: AsyncIterable<RecordedEvent[]>, onBatch?: (events: number) => void): Promise<{ events: number; checkpoint: bigint }> {
    // One transaction from the first DELETE to the last row: other connections read the old
    // directory meanwhile (WAL), and a rebuild that fails or dies leaves it as it was. Inside it the
    // tables are loaded bare: their indexes and triggers (whatever the schema has) are dropped,
    // each batch is folded in memory and each changed row written once, then the indexes are
    // built from the loaded rows, the trigger-kept tables refilled in bulk, the triggers made again.
    if (this.rebuilding) throw new DirectoryUnavailableError('TOKENLEDGER_DIRECTORY: a rebuild is running in this process');
    this.db.pragma(`temp_store = ${TEMP_IN_FILES}`);
    this.rebuilding = true;
    let count = 0;
    let checkpoint = 0n;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const schema = this.db
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name IN ('users', 'tokens', 'digests') AND sql IS NOT NULL")
        .all() as { type: 'index' | 'trigger'; name: string; sql: string }[];
      for (const { type, name } of schema) this.db.exec(`DROP ${type === 'index' ? 'INDEX' : 'TRIGGER'} "${name.replace(/"/g, '""')}"`);
      this.db.exec('DELETE FROM users; DELETE FROM tokens; DELETE FROM digests; UPDATE meta SET checkpoint = 0 WHERE id = 1;');
      // Digests arrive in random order: a million random inserts into the digest index cost more
      // than the rest of the rebuild. They go to a temporary table in log order instead.
      this.db.exec('DROP TABLE IF EXISTS temp.digests_load; CREATE TEMP TABLE digests_load (digest TEXT NOT NULL, stream_id TEXT NOT NULL, token_id TEXT NOT NULL)');
      const r = this.rowStatements();
      for await (const batch of batches) {
        const { ops, streamIds } = batchOps(batch);
        const folded = foldDirectoryOps(ops, this.loadRows(streamIds));
        this.writeRows(folded.streams.values());
        for (const d of folded.digests) r.loadDigest!.run(d.digest, d.streamId, d.tokenId);
        count += batch.length;
        checkpoint = batch.at(-1)!.position;
        onBatch?.(count);
      }
      // Sorted by digest, then log order: appended to the index, the first holder of a digest kept.
      this.db.exec('INSERT OR IGNORE INTO digests (digest, stream_id, token_id) SELECT digest, stream_id, token_id FROM temp.digests_load ORDER BY digest, rowid');
      this.db.exec('DROP TABLE temp.digests_load');
      for (const { sql } of schema.filter((o) => o.type === 'index')) this.db.exec(sql);
      this.db.exec(DERIVED_REFILL);
      this.db.exec('DELETE FROM user_grams_new');
      for (const { sql } of schema.filter((o) => o.type === 'trigger')) this.db.exec(sql);
      this.statements.setCheckpoint!.run(checkpoint);
      this.db.exec('COMMIT');
      this.gramsNew = 0;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      if (error instanceof Database.SqliteError) throw new DirectoryUnavailableError(`TOKENLEDGER_DIRECTORY: rebuild failed: ${error.message}`);
      throw error;
    } finally {
      this.rebuilding = false;
      this.db.pragma(`temp_store = ${TEMP_IN_MEMORY}`);
    }
    // The WAL holds the whole new directory and the old one's zeroed pages: back into the file, and truncated.
    this.guard('checkpointing the rebuild', () => this.db.pragma('wal_checkpoint(TRUNCATE)'));
    return { events: count, checkpoint };
  }

  /** Statements by SQL text: a list's text depends only on which filters it has (values are bound). */
  private readonly cached = new Map<string, Statement>();

  private statement(sql: string): Statement {
    let statement = this.cached.get(sql);
    if (!statement) {
      if (this.cached.size >= 256) this.cached.clear();
      statement = this.db.prepare(sql) as Statement;
      this.cached.set(sql, statement);
    }
    return statement;
  }

  /** How many rows a probe finds, counting up to `cap` (an index range read, at most `cap` entries). */
  private probe(sql: string, params: unknown[], cap: number): number {
    return (this.statement(`SELECT count(*) AS n FROM (${sql} LIMIT ${cap})`).get(...params) as { n: number }).n;
  }

  async listUsers(query: UserQuery): Promise<Page<DirectoryUser>> {
    const rows = this.guard('listing users', () => {
      // The rarest of the trigrams the search needs drives it (a capped count of each, at most 8).
      let plan: UserPlan = {};
      const grams = userQueryGrams(query);
      const step = Math.max(1, Math.ceil(grams.length / 8));
      let fewest = Infinity;
      for (let i = 0; i < grams.length; i += step) {
        const n =
          this.probe('SELECT 1 FROM user_grams WHERE gram = ?', [grams[i]], 5_000) + this.probe('SELECT 1 FROM user_grams_new WHERE gram = ?', [grams[i]], 5_000);
        if (n < fewest) (fewest = n), (plan = { gram: grams[i]! });
        if (n === 0) break;
      }
      const built = usersQuery(dialect, query, plan);
      const rows = this.statement(built.sql).all(...built.params) as UserRow[];
      if (plan.gram === undefined) return { built, rows };
      // The gram's posting lists in both tables, each read in list order as far as a page needs, merged.
      const recent = usersQuery(dialect, query, { ...plan, gramTable: 'user_grams_new' });
      const more = this.statement(recent.sql).all(...recent.params) as UserRow[];
      if (more.length === 0) return { built, rows };
      const sign = built.cursor?.direction === 'previous' ? -1 : 1;
      const byKey = (a: UserRow, b: UserRow) => sign * (a.username < b.username ? -1 : a.username > b.username ? 1 : a.stream_id < b.stream_id ? -1 : a.stream_id > b.stream_id ? 1 : 0);
      const seen = new Set(rows.map((row) => row.stream_id));
      return { built, rows: [...rows, ...more.filter((row) => !seen.has(row.stream_id))].sort(byKey).slice(0, built.limit + 1) };
    });
    const page = pageOf('users', rows.rows, rows.built.limit, rows.built.cursor, userKey);
    return { ...page, results: page.results.map(userOfRow) };
  }

  async listTokens(query: TokenQuery & { now: string }): Promise<Page<DirectoryToken>> {
    const rows = this.guard('listing tokens', () => {
      // A time status (expired, expiring, grace): read its range index, then sort, when it holds
      // fewer tokens at `now` than reading the list order would pass over to fill a page (about
      // page × all / matching), i.e. fewer than √(page × all); else read the list order.
      // A key prefix likewise (keys are random: a prefix of a few characters holds few).
      let plan: TokenPlan = {};
      const range = query.user === undefined ? statusRange(tokenStatusFilter(query.status), query.now, query.withinMs ?? DEFAULT_EXPIRING_MS) : null;
      const prefix = query.user === undefined && query.keyPrefix ? query.keyPrefix : null;
      if (range || prefix) {
        const all = Number((this.statement('SELECT max(rowid) AS n FROM tokens').get() as { n: number | null }).n ?? 0);
        const cap = Math.max(1, Math.ceil(Math.sqrt(((query.limit ?? DEFAULT_PAGE) + 1) * all)));
        if (prefix) {
          const bound = prefixBound(prefix);
          const n = this.probe(
            `SELECT 1 FROM tokens INDEXED BY tokens_prefix WHERE key_prefix >= ?${bound === null ? '' : ' AND key_prefix < ?'}`,
            bound === null ? [prefix] : [prefix, bound],
            cap,
          );
          if (n < cap) plan = { prefix: true };
        }
        if (range && !plan.prefix) {
          const n = this.probe(`SELECT 1 FROM tokens INDEXED BY ${range.index} WHERE ${range.where}`, range.params, cap);
          plan = { status: n < cap ? 'range' : 'order' };
        }
      }
      const built = tokensQuery(dialect, query, plan);
      return { built, rows: this.statement(built.sql).all(...built.params) as TokenRow[] };
    });
    const page = pageOf('tokens', rows.rows, rows.built.limit, rows.built.cursor, tokenKey);
    return { ...page, results: page.results.map((row) => tokenOfRow(row, query.now)) };
  }

  async counts(now: string, withinMs = DEFAULT_EXPIRING_MS): Promise<DirectoryCounts> {
    const sql = countsSql(dialect);
    const params = countsParams(dialect, now, withinMs);
    return this.guard('counting', () => {
      const users = this.statement(sql.users).get(...params.users) as Record<string, number>;
      const tokens = this.statement(sql.tokens).get(...params.tokens) as Record<string, number>;
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
    const tokenScopes = this.db
      .prepare('SELECT scope, name, username, created_at AS createdAt, token_id AS tokenId, stream_id AS streamId FROM token_scopes ORDER BY 1, 3, 4, 5, 6')
      .all() as DirectoryDump['tokenScopes'];
    const userGrams = this.db
      .prepare(
        "SELECT username, stream_id AS streamId, group_concat(gram, ' ') AS grams FROM (SELECT * FROM (SELECT * FROM user_grams UNION SELECT * FROM user_grams_new) ORDER BY username, stream_id, gram) GROUP BY username, stream_id ORDER BY username, stream_id",
      )
      .all() as DirectoryDump['userGrams'];
    return {
      checkpoint: this.readCheckpoint(),
      users: users.map((row) => ({ ...userOfRow(row), streamId: row.stream_id })),
      tokens: tokens.map((row) => {
        const { status: _status, ...token } = tokenOfRow(row, '');
        return { ...token, streamId: row.stream_id, digest: row.digest, previousDigest: row.previous_digest, revokeReason: row.revoke_reason };
      }),
      digests: digests.map((row) => ({ digest: row.digest, streamId: row.stream_id, tokenId: row.token_id })),
      tokenScopes: tokenScopes.map((row) => ({ ...row })),
      userGrams: userGrams.map((row) => ({ ...row })),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}


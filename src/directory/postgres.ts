import pg from 'pg';
import {
  batchOps,
  directoryOps,
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
  numbered,
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

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const q = (name: string) => `"${name}"`;

/**
 * The schema, as versioned migrations. Text columns that lists sort by are `COLLATE "C"`, so
 * PostgreSQL orders them by code point as SQLite does. A batch's row operations go to the server as
 * one JSON array and are applied by `apply_ops` there: one round trip per batch, not per event.
 */
function migrations(schema: string): string[] {
  const s = q(schema);
  return [
    `
    CREATE TABLE ${s}.meta (id int PRIMARY KEY CHECK (id = 1), checkpoint bigint NOT NULL);
    INSERT INTO ${s}.meta (id, checkpoint) VALUES (1, 0);
    CREATE TABLE ${s}.users (
      stream_id    text COLLATE "C" PRIMARY KEY,
      user_id      text    NOT NULL,
      username     text    COLLATE "C" NOT NULL,
      username_key text    COLLATE "C" NOT NULL,
      active       boolean NOT NULL,
      is_staff     boolean NOT NULL,
      is_superuser boolean NOT NULL,
      has_password boolean NOT NULL,
      created_at   text    COLLATE "C" NOT NULL,
      erased       boolean NOT NULL DEFAULT false
    );
    CREATE INDEX users_order ON ${s}.users (username, stream_id);
    CREATE TABLE ${s}.tokens (
      stream_id       text COLLATE "C" NOT NULL,
      token_id        text COLLATE "C" NOT NULL,
      username        text COLLATE "C" NOT NULL,
      name            text COLLATE "C" NOT NULL,
      kind            text NOT NULL,
      format          text NOT NULL,
      key_prefix      text COLLATE "C" NOT NULL,
      digest          text NOT NULL,
      previous_digest text,
      scopes          text NOT NULL,
      scope_key       text COLLATE "C" NOT NULL,
      description     text,
      created_at      text COLLATE "C" NOT NULL,
      expires_at      text COLLATE "C",
      last_rotated_at text,
      grace_until     text COLLATE "C",
      revoked_at      text,
      revoke_reason   text,
      erased          boolean NOT NULL DEFAULT false,
      PRIMARY KEY (stream_id, token_id)
    );
    CREATE INDEX tokens_order ON ${s}.tokens (username, created_at, token_id);
    CREATE INDEX tokens_live_name ON ${s}.tokens (stream_id, name) WHERE revoked_at IS NULL;
    CREATE INDEX tokens_name ON ${s}.tokens (name);
    CREATE TABLE ${s}.digests (digest text PRIMARY KEY, stream_id text NOT NULL, token_id text NOT NULL);
    CREATE FUNCTION ${s}.apply_ops(p_ops jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    DECLARE
      o jsonb;
      v_token text;
    BEGIN
      FOR o IN SELECT value FROM jsonb_array_elements(p_ops) LOOP
        CASE o->>'op'
        WHEN 'register' THEN
          UPDATE ${s}.tokens SET revoked_at = o->>'at' WHERE stream_id = o->>'streamId' AND revoked_at IS NULL;
          INSERT INTO ${s}.users (stream_id, user_id, username, username_key, active, is_staff, is_superuser, has_password, created_at, erased)
          VALUES (o->>'streamId', o->>'userId', o->>'username', o->>'usernameKey', true, (o->>'isStaff')::boolean,
                  (o->>'isSuperuser')::boolean, (o->>'hasPassword')::boolean, o->>'at', false)
          ON CONFLICT (stream_id) DO UPDATE SET user_id = excluded.user_id, username = excluded.username,
            username_key = excluded.username_key, active = true, is_staff = excluded.is_staff, is_superuser = excluded.is_superuser,
            has_password = excluded.has_password, created_at = excluded.created_at, erased = false;
        WHEN 'patchUser' THEN
          UPDATE ${s}.users SET
            active = coalesce((o->'set'->>'active')::boolean, active),
            is_staff = coalesce((o->'set'->>'isStaff')::boolean, is_staff),
            is_superuser = coalesce((o->'set'->>'isSuperuser')::boolean, is_superuser),
            has_password = coalesce((o->'set'->>'hasPassword')::boolean, has_password)
          WHERE stream_id = o->>'streamId';
        WHEN 'issue' THEN
          UPDATE ${s}.tokens SET revoked_at = o->>'at', revoke_reason = NULL
            WHERE stream_id = o->>'streamId' AND name = o->>'name' AND revoked_at IS NULL;
          INSERT INTO ${s}.tokens (stream_id, token_id, username, name, kind, format, key_prefix, digest, previous_digest, scopes,
            scope_key, description, created_at, expires_at, last_rotated_at, grace_until, revoked_at, revoke_reason, erased)
          SELECT o->>'streamId', o->>'tokenId', u.username, o->>'name', o->>'kind', o->>'format', o->>'keyPrefix', o->>'digest', NULL,
            o->>'scopesJson', o->>'scopeKey', o->>'description', o->>'at', o->>'expiresAt', NULL, NULL, NULL, NULL, false
          FROM ${s}.users u WHERE u.stream_id = o->>'streamId'
          ON CONFLICT (stream_id, token_id) DO UPDATE SET username = excluded.username, name = excluded.name, kind = excluded.kind,
            format = excluded.format, key_prefix = excluded.key_prefix, digest = excluded.digest, previous_digest = NULL,
            scopes = excluded.scopes, scope_key = excluded.scope_key, description = excluded.description,
            created_at = excluded.created_at, expires_at = excluded.expires_at, last_rotated_at = NULL, grace_until = NULL,
            revoked_at = NULL, revoke_reason = NULL, erased = false;
          INSERT INTO ${s}.digests (digest, stream_id, token_id)
            SELECT o->>'digest', stream_id, token_id FROM ${s}.tokens WHERE stream_id = o->>'streamId' AND token_id = o->>'tokenId'
            ON CONFLICT DO NOTHING;
        WHEN 'rotate' THEN
          v_token := NULL;
          UPDATE ${s}.tokens SET digest = o->>'digest', key_prefix = o->>'keyPrefix', previous_digest = o->>'previousDigest',
              grace_until = o->>'graceUntil', last_rotated_at = o->>'at'
            WHERE stream_id = o->>'streamId' AND name = o->>'name' AND revoked_at IS NULL
            RETURNING token_id INTO v_token;
          IF v_token IS NOT NULL THEN
            INSERT INTO ${s}.digests (digest, stream_id, token_id) VALUES (o->>'digest', o->>'streamId', v_token) ON CONFLICT DO NOTHING;
          END IF;
        WHEN 'revoke' THEN
          UPDATE ${s}.tokens SET revoked_at = o->>'at', revoke_reason = o->>'reason'
            WHERE stream_id = o->>'streamId' AND name = o->>'name' AND revoked_at IS NULL;
        WHEN 'erase' THEN
          DELETE FROM ${s}.users WHERE stream_id = o->>'streamId';
          DELETE FROM ${s}.tokens WHERE stream_id = o->>'streamId';
        ELSE
          RAISE EXCEPTION 'unknown directory operation %', o->>'op';
        END CASE;
      END LOOP;
    END
    $fn$;
    `,
    // 2: what the lists filter by is served by an index (see the SQLite adapter's SCHEMA_V2; the
    // username search is pg_trgm's, made apart by trigramIndex since the extension may be missing).
    `
    CREATE INDEX users_staff ON ${s}.users (is_staff, username, stream_id);
    CREATE INDEX users_active ON ${s}.users (active, username, stream_id);
    CREATE INDEX users_staff_active ON ${s}.users (is_staff, active, username, stream_id);
    DROP INDEX ${s}.tokens_name;
    CREATE INDEX tokens_name ON ${s}.tokens (name, username, created_at, token_id);
    CREATE INDEX tokens_revoked ON ${s}.tokens (username, created_at, token_id) WHERE revoked_at IS NOT NULL;
    CREATE INDEX tokens_expiry ON ${s}.tokens (expires_at) WHERE revoked_at IS NULL AND expires_at IS NOT NULL;
    CREATE INDEX tokens_grace ON ${s}.tokens (grace_until, expires_at) WHERE revoked_at IS NULL AND grace_until IS NOT NULL;
    CREATE TABLE ${s}.token_scopes (
      scope      text COLLATE "C" NOT NULL,
      name       text COLLATE "C" NOT NULL,
      username   text COLLATE "C" NOT NULL,
      created_at text COLLATE "C" NOT NULL,
      token_id   text COLLATE "C" NOT NULL,
      stream_id  text COLLATE "C" NOT NULL,
      PRIMARY KEY (scope, username, created_at, token_id, stream_id)
    );
    CREATE INDEX token_scopes_name ON ${s}.token_scopes (scope, name, username, created_at, token_id);
    CREATE FUNCTION ${s}.token_scopes_sync() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      -- A rebuild loads tokens with this off and refills token_scopes once at the end.
      IF current_setting('tokenledger.directory_bulk', true) = 'on' THEN
        RETURN NULL;
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.scopes <> '[]' THEN
        DELETE FROM ${s}.token_scopes WHERE scope IN (SELECT jsonb_array_elements_text(OLD.scopes::jsonb))
          AND username = OLD.username AND created_at = OLD.created_at AND token_id = OLD.token_id AND stream_id = OLD.stream_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.scopes <> '[]' THEN
        INSERT INTO ${s}.token_scopes (scope, name, username, created_at, token_id, stream_id)
          SELECT DISTINCT j, NEW.name, NEW.username, NEW.created_at, NEW.token_id, NEW.stream_id
          FROM jsonb_array_elements_text(NEW.scopes::jsonb) j
          ON CONFLICT DO NOTHING;
      END IF;
      RETURN NULL;
    END
    $fn$;
    CREATE TRIGGER tokens_scopes AFTER INSERT OR DELETE ON ${s}.tokens FOR EACH ROW EXECUTE FUNCTION ${s}.token_scopes_sync();
    CREATE TRIGGER tokens_scopes_update AFTER UPDATE ON ${s}.tokens FOR EACH ROW
      WHEN (OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.name IS DISTINCT FROM NEW.name OR OLD.username IS DISTINCT FROM NEW.username
        OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.token_id IS DISTINCT FROM NEW.token_id OR OLD.stream_id IS DISTINCT FROM NEW.stream_id)
      EXECUTE FUNCTION ${s}.token_scopes_sync();
    ${tokenScopesRefill(schema)}
    `,
    // 3: the key-prefix filter reads an index range (the column is COLLATE "C": LIKE 'p%' uses it).
    `CREATE INDEX tokens_prefix ON ${s}.tokens (key_prefix);`,
  ];
}

/** token_scopes filled from the tokens (migration 2, and a rebuild after its load). */
function tokenScopesRefill(schema: string): string {
  const s = q(schema);
  return `DELETE FROM ${s}.token_scopes;
    INSERT INTO ${s}.token_scopes (scope, name, username, created_at, token_id, stream_id)
      SELECT DISTINCT j, t.name, t.username, t.created_at, t.token_id, t.stream_id FROM ${s}.tokens t, jsonb_array_elements_text(t.scopes::jsonb) j
      WHERE t.scopes <> '[]'
      ON CONFLICT DO NOTHING;`;
}

/** An operation as `apply_ops` reads it: the searchable keys computed here, once, as SQLite's adapter does. */
function wire(op: DirectoryOp): unknown {
  if (op.op === 'register') return { ...op, usernameKey: searchKey(op.username) };
  if (op.op === 'issue') return { ...op, scopesJson: JSON.stringify(op.scopes), scopeKey: scopeKey(op.scopes) };
  return op;
}

function isConnectionError(error: unknown): boolean {
  const { code, syscall, message } = error as { code?: unknown; syscall?: unknown; message?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|28|3D|53|57)/.test(code);
  if (syscall !== undefined) return true;
  return /connection|timeout exceeded when trying to connect/i.test(String(message));
}

/**
 * The directory in PostgreSQL: tables in a schema of their own (by default `<store schema>_directory`
 * in the log's database), made on first open.
 */
export class PostgresDirectory implements DirectoryStore {
  readonly backend = 'postgres';
  private readonly dialect: Dialect;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    readonly where: string,
  ) {
    this.dialect = { table: (name) => `${q(schema)}.${name}`, bool: (value) => value, indexedBy: () => '', lateral: true };
  }

  static async open(url: string): Promise<PostgresDirectory> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DirectoryUnavailableError('TOKENLEDGER_DIRECTORY: not a valid postgres:// URL');
    }
    const schema = parsed.searchParams.get('schema') ?? 'tokenledger_directory';
    if (!SCHEMA_PATTERN.test(schema)) {
      throw new DirectoryUnavailableError(`TOKENLEDGER_DIRECTORY: schema "${schema.slice(0, 64)}" must be lower-case letters, digits and _`);
    }
    for (const key of ['schema', 'pool']) parsed.searchParams.delete(key);
    const where = `postgres at ${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname}, schema ${schema}`;
    const pool = new pg.Pool({ connectionString: parsed.toString(), max: 4, connectionTimeoutMillis: 5_000, application_name: 'tokenledger-directory' });
    pool.on('error', () => {});
    const directory = new PostgresDirectory(pool, schema, where);
    try {
      await directory.migrate();
    } catch (error) {
      await pool.end().catch(() => {});
      throw directory.translate(error, 'setting up the schema');
    }
    return directory;
  }

  private translate(error: unknown, what: string): unknown {
    if (error instanceof DirectoryGapError || error instanceof DirectoryUnavailableError) return error;
    if (isConnectionError(error) || what === 'setting up the schema') {
      return new DirectoryUnavailableError(`TOKENLEDGER_DIRECTORY: ${what} in ${this.where} failed: ${(error as Error).message}`);
    }
    return error;
  }

  private async migrate(): Promise<void> {
    const s = q(this.schema);
    const steps = migrations(this.schema);
    const client = await this.pool.connect();
    const current = async (): Promise<number> => {
      const exists = await client.query('SELECT to_regclass($1) AS t', [`${s}.schema_version`]);
      if (exists.rows[0].t === null) return 0;
      return (await client.query(`SELECT coalesce(max(version), 0) AS v FROM ${s}.schema_version`)).rows[0].v;
    };
    try {
      if ((await current()) === steps.length) return await this.trigramIndex(client);
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tokenledger-directory:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const version = await current();
      if (version > steps.length) {
        throw new DirectoryUnavailableError(`TOKENLEDGER_DIRECTORY: schema "${this.schema}" is at version ${version}, newer than this tokenledger; upgrade tokenledger`);
      }
      for (let v = version; v < steps.length; v++) {
        await client.query(steps[v]!);
        await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [v + 1]);
      }
      await client.query('COMMIT');
      await this.trigramIndex(client);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The username search's index: pg_trgm's GIN index on the search key, so `LIKE '%…%'` reads the
   * users holding the pattern's trigrams, not every user. Made once, when pg_trgm can be had
   * (a contrib extension, trusted: a database owner may create it); without it, searches are
   * answered the same, by reading the users in list order (slower on large directories). Tried
   * again at every open until it exists.
   */
  private async trigramIndex(client: pg.PoolClient): Promise<void> {
    const s = q(this.schema);
    const exists = await client.query('SELECT to_regclass($1) AS t', [`${s}.users_search_trgm`]);
    if (exists.rows[0].t !== null) return;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tokenledger-directory:${this.schema}`]);
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
      const ns = (await client.query("SELECT extnamespace::regnamespace::text AS ns FROM pg_extension WHERE extname = 'pg_trgm'")).rows[0].ns as string;
      await client.query(`CREATE INDEX IF NOT EXISTS users_search_trgm ON ${s}.users USING gin (username_key ${ns}.gin_trgm_ops)`);
      await client.query('COMMIT');
    } catch {
      await client.query('ROLLBACK').catch(() => {});
    }
  }

  private async query<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (error) {
      throw this.translate(error, what);
    }
  }

  /** Runs `fn` in a transaction on one connection, with the checkpoint row locked (one writer at a time). */
  private async transaction<T>(what: string, fn: (client: pg.PoolClient, checkpoint: bigint) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error, what);
    }
    try {
      await client.query('BEGIN');
      const row = await client.query(`SELECT checkpoint FROM ${this.dialect.table('meta')} WHERE id = 1 FOR UPDATE`);
      const result = await fn(client, BigInt(row.rows[0].checkpoint));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw this.translate(error, what);
    } finally {
      client.release();
    }
  }

  private async applyOps(client: pg.PoolClient, events: RecordedEvent[]): Promise<void> {
    const ops: unknown[] = [];
    for (const event of events) for (const op of directoryOps(event)) ops.push(wire(op));
    if (ops.length > 0) await client.query(`SELECT ${q(this.schema)}.apply_ops($1::jsonb)`, [JSON.stringify(ops)]);
  }

  private setCheckpoint(client: pg.PoolClient, checkpoint: bigint): Promise<unknown> {
    return client.query(`UPDATE ${this.dialect.table('meta')} SET checkpoint = $1 WHERE id = 1`, [String(checkpoint)]);
  }

  async checkpoint(): Promise<bigint> {
    const rows = await this.query<{ checkpoint: string }>('reading the checkpoint', `SELECT checkpoint FROM ${this.dialect.table('meta')} WHERE id = 1`);
    return BigInt(rows[0]!.checkpoint);
  }

  async apply(events: RecordedEvent[], after?: bigint): Promise<void> {
    if (events.length === 0) return;
    await this.transaction('applying events', async (client, checkpoint) => {
      if (after !== undefined && checkpoint < after) throw new DirectoryGapError(checkpoint, after);
      const fresh = events.filter((event) => event.position > checkpoint);
      if (fresh.length === 0) return;
      await this.applyOps(client, fresh);
      await this.setCheckpoint(client, fresh.at(-1)!.position);
    });
  }

  /** The stored rows of a batch's streams (user rows, tokens not revoked): two queries. */
  private async loadRows(client: pg.PoolClient, ids: string[]): Promise<Map<string, StoredRows>> {
    const stored = new Map<string, StoredRows>();
    if (ids.length === 0) return stored;
    const t = this.dialect.table;
    const users = await client.query({
      text: `SELECT stream_id, user_id, username, active, is_staff, is_superuser, has_password, created_at FROM ${t('users')} WHERE stream_id = ANY($1::text[])`,
      values: [ids],
      rowMode: 'array',
    });
    for (const [streamId, userId, username, active, isStaff, isSuperuser, hasPassword, createdAt] of users.rows) {
      stored.set(streamId, { user: { streamId, userId, username, active, isStaff, isSuperuser, hasPassword, createdAt }, live: [] });
    }
    const live = await client.query({
      text: `SELECT stream_id, token_id, username, name, kind, format, key_prefix, digest, previous_digest, scopes, description, created_at,
               expires_at, last_rotated_at, grace_until FROM ${t('tokens')} WHERE stream_id = ANY($1::text[]) AND revoked_at IS NULL`,
      values: [ids],
      rowMode: 'array',
    });
    for (const row of live.rows) {
      const [streamId, tokenId, username, name, kind, format, keyPrefix, digest, previousDigest, scopes, description, createdAt, expiresAt, lastRotatedAt, graceUntil] = row;
      stored.get(streamId)?.live.push({
        streamId, tokenId, username, name, kind, format, keyPrefix, digest, previousDigest, scopes: JSON.parse(scopes), description, createdAt,
        expiresAt, lastRotatedAt, graceUntil, revokedAt: null, revokeReason: null,
      } satisfies DirectoryTokenRow);
    }
    return stored;
  }

  /** What a folded batch changed, in a few set-based statements (arrays unnested server-side). */
  private async writeRows(client: pg.PoolClient, streams: Iterable<StreamRows>, digests: { digest: string; streamId: string; tokenId: string }[]): Promise<void> {
    const t = this.dialect.table;
    const wiped: string[] = [];
    const users: unknown[][] = [[], [], [], [], [], [], [], [], []];
    const tokens: unknown[][] = Array.from({ length: 18 }, () => []);
    for (const rows of streams) {
      if (rows.wiped) wiped.push(rows.streamId);
      const u = rows.user;
      if (u !== null && rows.userChanged) {
        [u.streamId, u.userId, u.username, searchKey(u.username), u.active, u.isStaff, u.isSuperuser, u.hasPassword, u.createdAt].forEach((v, i) => users[i]!.push(v));
      }
      for (const k of rows.changed.values()) {
        [k.streamId, k.tokenId, k.username, k.name, k.kind, k.format, k.keyPrefix, k.digest, k.previousDigest, JSON.stringify(k.scopes), scopeKey(k.scopes),
          k.description, k.createdAt, k.expiresAt, k.lastRotatedAt, k.graceUntil, k.revokedAt, k.revokeReason].forEach((v, i) => tokens[i]!.push(v));
      }
    }
    if (wiped.length > 0) {
      await client.query(`DELETE FROM ${t('users')} WHERE stream_id = ANY($1::text[])`, [wiped]);
      await client.query(`DELETE FROM ${t('tokens')} WHERE stream_id = ANY($1::text[])`, [wiped]);
    }
    if (users[0]!.length > 0) {
      await client.query(
        `INSERT INTO ${t('users')} (stream_id, user_id, username, username_key, active, is_staff, is_superuser, has_password, created_at, erased)
         SELECT *, false FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::boolean[], $7::boolean[], $8::boolean[], $9::text[])
         ON CONFLICT (stream_id) DO UPDATE SET user_id = excluded.user_id, username = excluded.username, username_key = excluded.username_key,
           active = excluded.active, is_staff = excluded.is_staff, is_superuser = excluded.is_superuser, has_password = excluded.has_password,
           created_at = excluded.created_at, erased = false`,
        users,
      );
    }
    if (tokens[0]!.length > 0) {
      await client.query(
        `INSERT INTO ${t('tokens')} (stream_id, token_id, username, name, kind, format, key_prefix, digest, previous_digest, scopes, scope_key,
           description, created_at, expires_at, last_rotated_at, grace_until, revoked_at, revoke_reason, erased)
         SELECT *, false FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
           $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])
         ON CONFLICT (stream_id, token_id) DO UPDATE SET username = excluded.username, name = excluded.name, kind = excluded.kind,
           format = excluded.format, key_prefix = excluded.key_prefix, digest = excluded.digest, previous_digest = excluded.previous_digest,
           scopes = excluded.scopes, scope_key = excluded.scope_key, description = excluded.description, created_at = excluded.created_at,
           expires_at = excluded.expires_at, last_rotated_at = excluded.last_rotated_at, grace_until = excluded.grace_until,
           revoked_at = excluded.revoked_at, revoke_reason = excluded.revoke_reason, erased = false`,
        tokens,
      );
    }
    if (digests.length > 0) {
      // In log order: the first holder of a digest is kept, as the incremental path keeps it.
      await client.query(
        `INSERT INTO ${t('digests')} (digest, stream_id, token_id)
         SELECT d, s, k FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(d, s, k, n) ORDER BY n
         ON CONFLICT DO NOTHING`,
        [digests.map((d) => d.digest), digests.map((d) => d.streamId), digests.map((d) => d.tokenId)],
      );
    }
  }

  async rebuild(batches: AsyncIterable<RecordedEvent[]>, onBatch?: (events: number) => void): Promise<{ events: number; checkpoint: bigint }> {
    // One transaction (readers see the old rows until it commits): each batch folded in memory
    // over its streams' stored rows, then written in a few set-based statements, each row once.
    const result = await this.transaction('rebuilding', async (client) => {
      const t = this.dialect.table;
      // token_scopes' trigger is off for the load (this transaction only) and the table refilled once after it.
      await client.query("SET LOCAL tokenledger.directory_bulk = 'on'");
      await client.query(`DELETE FROM ${t('token_scopes')}; DELETE FROM ${t('users')}; DELETE FROM ${t('tokens')}; DELETE FROM ${t('digests')};`);
      let count = 0;
      let checkpoint = 0n;
      for await (const batch of batches) {
        const { ops, streamIds } = batchOps(batch);
        const folded = foldDirectoryOps(ops, await this.loadRows(client, streamIds));
        await this.writeRows(client, folded.streams.values(), folded.digests);
        count += batch.length;
        checkpoint = batch.at(-1)!.position;
        onBatch?.(count);
      }
      await client.query("SET LOCAL tokenledger.directory_bulk = 'off'");
      await client.query(tokenScopesRefill(this.schema));
      await this.setCheckpoint(client, checkpoint);
      return { events: count, checkpoint };
    });
    // Every row is new: statistics for the planner now, not when autovacuum comes by.
    await this.query('analyzing the rebuilt directory', `ANALYZE ${this.dialect.table('users')}, ${this.dialect.table('tokens')}, ${this.dialect.table('token_scopes')}, ${this.dialect.table('digests')}`);
    return result;
  }

  async listUsers(query: UserQuery): Promise<Page<DirectoryUser>> {
    const built = usersQuery(this.dialect, query);
    const rows = await this.query<UserRow>('listing users', numbered(built.sql), built.params);
    const page = pageOf('users', rows, built.limit, built.cursor, userKey);
    return { ...page, results: page.results.map(userOfRow) };
  }

  async listTokens(query: TokenQuery & { now: string }): Promise<Page<DirectoryToken>> {
    const built = tokensQuery(this.dialect, query);
    const rows = await this.query<TokenRow>('listing tokens', numbered(built.sql), built.params);
    const page = pageOf('tokens', rows, built.limit, built.cursor, tokenKey);
    return { ...page, results: page.results.map((row) => tokenOfRow(row, query.now)) };
  }

  async counts(now: string, withinMs = DEFAULT_EXPIRING_MS): Promise<DirectoryCounts> {
    const sql = countsSql(this.dialect);
    const params = countsParams(this.dialect, now, withinMs);
    const [users] = await this.query<Record<string, string>>('counting users', numbered(sql.users), params.users);
    const [tokens] = await this.query<Record<string, string>>('counting tokens', numbered(sql.tokens), params.tokens);
    const n = (value: string | undefined) => Number(value ?? 0);
    return {
      users: { total: n(users!.total), active: n(users!.active), staff: n(users!.staff) },
      tokens: { live: n(tokens!.live), grace: n(tokens!.grace), expired: n(tokens!.expired), revoked: n(tokens!.revoked), expiring: n(tokens!.expiring) },
    };
  }

  async holderOf(digest: string): Promise<DigestHolder | null> {
    const rows = await this.query<{ stream_id: string; token_id: string }>(
      'reading the digest history',
      `SELECT stream_id, token_id FROM ${this.dialect.table('digests')} WHERE digest = $1`,
      [digest],
    );
    return rows[0] ? { streamId: rows[0].stream_id, tokenId: rows[0].token_id } : null;
  }

  async streamOf(username: string): Promise<string | null> {
    const rows = await this.query<{ stream_id: string }>(
      'finding a user',
      `SELECT stream_id FROM ${this.dialect.table('users')} WHERE username = $1 AND NOT erased LIMIT 1`,
      [username],
    );
    return rows[0]?.stream_id ?? null;
  }

  async streamsWithToken(nameOrId: string, limit: number): Promise<string[]> {
    const rows = await this.query<{ stream_id: string }>(
      'finding a token',
      `SELECT DISTINCT stream_id FROM ${this.dialect.table('tokens')} WHERE (name = $1 OR token_id = $1) AND NOT erased ORDER BY stream_id LIMIT $2`,
      [nameOrId, limit],
    );
    return rows.map((row) => row.stream_id);
  }

  async dump(): Promise<DirectoryDump> {
    const t = this.dialect.table;
    const users = await this.query<UserRow>(
      'dumping',
      `SELECT u.*, (SELECT count(*) FROM ${t('tokens')} t WHERE t.stream_id = u.stream_id AND t.revoked_at IS NULL) AS tokens FROM ${t('users')} u ORDER BY username, stream_id`,
    );
    const tokens = await this.query<TokenRow>('dumping', `SELECT ${TOKEN_SELECT} FROM ${t('tokens')} t ORDER BY username, created_at, token_id`);
    const digests = await this.query<{ digest: string; stream_id: string; token_id: string }>(
      'dumping',
      `SELECT * FROM ${t('digests')} ORDER BY digest COLLATE "C"`,
    );
    const tokenScopes = await this.query<DirectoryDump['tokenScopes'][number]>(
      'dumping',
      `SELECT scope, name, username, created_at AS "createdAt", token_id AS "tokenId", stream_id AS "streamId" FROM ${t('token_scopes')} ORDER BY 1, 3, 4, 5, 6`,
    );
    return {
      checkpoint: await this.checkpoint(),
      users: users.map((row) => ({ ...userOfRow(row), streamId: row.stream_id })),
      tokens: tokens.map((row) => {
        const { status: _status, ...token } = tokenOfRow(row, '');
        return { ...token, streamId: row.stream_id, digest: row.digest, previousDigest: row.previous_digest, revokeReason: row.revoke_reason };
      }),
      digests: digests.map((row) => ({ digest: row.digest, streamId: row.stream_id, tokenId: row.token_id })),
      tokenScopes,
      // The username search is pg_trgm's index here: no side table.
      userGrams: [],
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StoreUnavailableError } from '../port.js';
import type { KeyRequest, StreamKeys, Vault, VaultKey } from './port.js';
import { newKeyId, newSecret } from './seal.js';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The vault in a schema of its own (`<store schema>_vault` by default) of a PostgreSQL database.
 * A deleted key is absent from `pg_dump` at once; the table is vacuumed after each shred so the
 * dead row's bytes do not wait for autovacuum.
 */
export class PostgresVault implements Vault {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    readonly where: string,
  ) {}

  private get table(): string {
    return `"${this.schema}".keys`;
  }

  static async open(url: string, schema: string): Promise<PostgresVault> {
    if (!SCHEMA_PATTERN.test(schema)) throw new StoreUnavailableError(`TOKENLEDGER_VAULT: schema "${schema.slice(0, 64)}" must be lower-case letters, digits and _`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new StoreUnavailableError('TOKENLEDGER_VAULT: not a valid postgres:// URL');
    }
    for (const key of ['schema', 'pool']) parsed.searchParams.delete(key);
    const where = `PostgreSQL ${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname}, schema ${schema}`;
    const pool = new pg.Pool({ connectionString: parsed.toString(), max: 4, connectionTimeoutMillis: 5_000, application_name: 'tokenledger-vault' });
    pool.on('error', () => {});
    const vault = new PostgresVault(pool, schema, where);
    try {
      await vault.migrate();
    } catch (error) {
      await pool.end().catch(() => {});
      throw new StoreUnavailableError(`TOKENLEDGER_VAULT: cannot open ${where}: ${(error as Error).message}`);
    }
    return vault;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`tokenledger-vault:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS "${this.schema}".meta (name text PRIMARY KEY, value bytea NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        key_id text PRIMARY KEY,
        stream_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('user', 'password')),
        username text,
        secret bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())`);
      await client.query(`CREATE INDEX IF NOT EXISTS keys_stream ON ${this.table} (stream_id)`);
      await client.query(`CREATE UNIQUE INDEX IF NOT EXISTS keys_user ON ${this.table} (stream_id) WHERE kind = 'user'`);
      await client.query(`CREATE UNIQUE INDEX IF NOT EXISTS keys_username ON ${this.table} (username) WHERE kind = 'user'`);
      await client.query(`INSERT INTO "${this.schema}".meta (name, value) VALUES ('pepper', $1) ON CONFLICT DO NOTHING`, [randomBytes(32)]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw new StoreUnavailableError(`TOKENLEDGER_VAULT: ${this.where}: ${(error as Error).message}`);
    }
  }

  private pepperValue: Buffer | null = null;

  async pepper(): Promise<Buffer> {
    // Never changes once made, so it is the one thing worth keeping.
    this.pepperValue ??= (await this.query<{ value: Buffer }>(`SELECT value FROM "${this.schema}".meta WHERE name = 'pepper'`)).rows[0]!.value;
    return this.pepperValue;
  }

  async keys(keyIds: readonly string[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    if (keyIds.length === 0) return found;
    const { rows } = await this.query<{ key_id: string; secret: Buffer }>(`SELECT key_id, secret FROM ${this.table} WHERE key_id = ANY($1)`, [[...new Set(keyIds)]]);
    for (const row of rows) found.set(row.key_id, row.secret);
    return found;
  }

  async userKey(streamId: string, create?: { username: string }): Promise<VaultKey | null> {
    if (create) {
      await this.query(
        `INSERT INTO ${this.table} (key_id, stream_id, kind, username, secret) VALUES ($1, $2, 'user', $3, $4) ON CONFLICT DO NOTHING`,
        [newKeyId('user'), streamId, create.username, newSecret()],
      );
    }
    const { rows } = await this.query<{ key_id: string; secret: Buffer }>(`SELECT key_id, secret FROM ${this.table} WHERE stream_id = $1 AND kind = 'user'`, [streamId]);
    return rows[0] ? { keyId: rows[0].key_id, secret: rows[0].secret } : null;
  }

  async userKeyByName(username: string): Promise<(VaultKey & { streamId: string }) | null> {
    const { rows } = await this.query<{ key_id: string; secret: Buffer; stream_id: string }>(
      `SELECT key_id, secret, stream_id FROM ${this.table} WHERE username = $1 AND kind = 'user'`,
      [username],
    );
    return rows[0] ? { keyId: rows[0].key_id, secret: rows[0].secret, streamId: rows[0].stream_id } : null;
  }

  async usernames(streamIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (streamIds.length === 0) return found;
    const { rows } = await this.query<{ stream_id: string; username: string }>(
      `SELECT stream_id, username FROM ${this.table} WHERE kind = 'user' AND stream_id = ANY($1)`,
      [[...new Set(streamIds)]],
    );
    for (const row of rows) found.set(row.stream_id, row.username);
    return found;
  }

  async keysFor(requests: readonly KeyRequest[]): Promise<StreamKeys[]> {
    if (requests.length === 0) return [];
    const users = requests.map(({ streamId, username }) => ({ streamId, username, keyId: newKeyId('user'), secret: newSecret() }));
    const made = requests.map(({ passwords }) => Array.from({ length: passwords }, () => ({ keyId: newKeyId('password'), secret: newSecret() })));
    const passwords = made.flatMap((keys, i) => keys.map((key) => ({ ...key, streamId: requests[i]!.streamId })));
    // One statement, so one commit for every key. Then the user keys as they are now: ours, or the
    // ones another writer made first (a new statement sees what that writer committed).
    await this.query(
      `WITH users AS (
         INSERT INTO ${this.table} (key_id, stream_id, kind, username, secret)
         SELECT key_id, stream_id, 'user', username, secret FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS u (key_id, stream_id, username, secret)
         ON CONFLICT DO NOTHING
       )
       INSERT INTO ${this.table} (key_id, stream_id, kind, secret)
       SELECT key_id, stream_id, 'password', secret FROM unnest($5::text[], $6::text[], $7::bytea[]) AS p (key_id, stream_id, secret)`,
      [
        users.map((u) => u.keyId),
        users.map((u) => u.streamId),
        users.map((u) => u.username),
        users.map((u) => u.secret),
        passwords.map((k) => k.keyId),
        passwords.map((k) => k.streamId),
        passwords.map((k) => k.secret),
      ],
    );
    const { rows } = await this.query<{ stream_id: string; key_id: string; secret: Buffer }>(
      `SELECT stream_id, key_id, secret FROM ${this.table} WHERE kind = 'user' AND stream_id = ANY($1)`,
      [[...new Set(users.map((u) => u.streamId))]],
    );
    const byStream = new Map(rows.map((row) => [row.stream_id, { keyId: row.key_id, secret: row.secret }]));
    return requests.map(({ streamId }, i) => {
      const user = byStream.get(streamId);
      if (!user) throw new Error(`the vault has no user key for stream ${streamId}, and cannot make one`);
      return { user, passwords: made[i]! };
    });
  }

  async passwordKeys(streamId: string): Promise<VaultKey[]> {
    const { rows } = await this.query<{ key_id: string; secret: Buffer }>(`SELECT key_id, secret FROM ${this.table} WHERE stream_id = $1 AND kind = 'password' ORDER BY created_at, key_id`, [streamId]);
    return rows.map((row) => ({ keyId: row.key_id, secret: row.secret }));
  }

  async shred(streamId: string, what: { all: true } | { passwordsExcept: string | null }): Promise<number> {
    const result =
      'all' in what
        ? await this.query(`DELETE FROM ${this.table} WHERE stream_id = $1`, [streamId])
        : await this.query(`DELETE FROM ${this.table} WHERE stream_id = $1 AND kind = 'password' AND key_id IS DISTINCT FROM $2`, [streamId, what.passwordsExcept]);
    // Best effort: VACUUM needs the table's owner, and erasure does not depend on it (pg_dump never holds a deleted row).
    if ((result.rowCount ?? 0) > 0) await this.pool.query(`VACUUM ${this.table}`).catch(() => {});
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

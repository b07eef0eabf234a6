import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../port.js';
import type { KeyRequest, StreamKeys, Vault, VaultKey } from './port.js';
import { newKeyId, newSecret } from './seal.js';

const SCHEMA_VERSION = 1;

/**
 * The vault in a SQLite file of its own, beside the log (never inside it: the log's file is
 * append-only and copied around; this one is where deletion happens). `secure_delete` overwrites
 * a deleted key's bytes, and the rollback journal (not WAL) leaves no copy of a deleted page in a
 * `-wal` file. The file is made readable by its owner only.
 */
export class SqliteVault implements Vault {
  private readonly db: Database.Database;
  readonly where: string;
  /** Writes waiting for the next group commit (see `write`). */
  private pending: { run: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  /** Statements prepared once (an import runs some of them a hundred thousand times). */
  private readonly sql: Record<'insert' | 'userKey' | 'shredAll' | 'shredPasswords' | 'keys' | 'usernames', Database.Statement>;

  constructor(readonly path: string) {
    this.where = `SQLite file ${path}`;
    try {
      const fresh = !existsSync(path);
      if (fresh) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.db = new Database(path, { timeout: 30_000 });
      if (fresh) chmodSync(path, 0o600);
      this.db.pragma('secure_delete = ON');
      this.db.pragma('journal_mode = DELETE');
      this.db.pragma('synchronous = FULL');
      // 16 MB of page cache: key ids and stream ids are random, so a batch of new keys touches
      // pages all over the indexes, and with the default 2 MB each is read again from the file.
      this.db.pragma('cache_size = -16384');
      this.migrate();
    } catch (error) {
      throw new StoreUnavailableError(`TOKENLEDGER_VAULT: cannot open SQLite file ${path}: ${(error as Error).message}`);
    }
    this.sql = {
      insert: this.db.prepare('INSERT INTO keys (key_id, stream_id, kind, username, secret, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      userKey: this.db.prepare("SELECT key_id, secret FROM keys WHERE stream_id = ? AND kind = 'user'"),
      shredAll: this.db.prepare('DELETE FROM keys WHERE stream_id = ?'),
      shredPasswords: this.db.prepare("DELETE FROM keys WHERE stream_id = ? AND kind = 'password' AND key_id IS NOT ?"),
      // Many ids at once, as a JSON array: one statement however many (a directory rebuild asks for thousands).
      keys: this.db.prepare('SELECT key_id, secret FROM keys WHERE key_id IN (SELECT value FROM json_each(?))'),
      usernames: this.db.prepare("SELECT stream_id, username FROM keys WHERE kind = 'user' AND stream_id IN (SELECT value FROM json_each(?))"),
    };
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    this.db.exec(`
      BEGIN IMMEDIATE;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS keys (
        key_id     TEXT PRIMARY KEY,
        stream_id  TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('user', 'password')),
        username   TEXT,
        secret     BLOB NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS keys_stream ON keys (stream_id);
      CREATE UNIQUE INDEX IF NOT EXISTS keys_user ON keys (stream_id) WHERE kind = 'user';
      CREATE UNIQUE INDEX IF NOT EXISTS keys_username ON keys (username) WHERE kind = 'user';
      PRAGMA user_version = ${SCHEMA_VERSION};
      COMMIT;
    `);
  }

  async pepper(): Promise<Buffer> {
    this.db.prepare("INSERT OR IGNORE INTO meta (name, value) VALUES ('pepper', ?)").run(randomBytes(32));
    return (this.db.prepare("SELECT value FROM meta WHERE name = 'pepper'").get() as { value: Buffer }).value;
  }

  async keys(keyIds: readonly string[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    if (keyIds.length === 0) return found;
    for (const row of this.sql.keys.all(JSON.stringify(keyIds)) as { key_id: string; secret: Buffer }[]) found.set(row.key_id, row.secret);
    return found;
  }

  async userKey(streamId: string, create?: { username: string }): Promise<VaultKey | null> {
    const select = () => this.sql.userKey.get(streamId) as { key_id: string; secret: Buffer } | undefined;
    let row = select();
    if (!row && create) {
      await this.write(() => this.sql.insert.run(newKeyId('user'), streamId, 'user', create.username, newSecret(), new Date().toISOString()));
      row = select();
    }
    return row ? { keyId: row.key_id, secret: row.secret } : null;
  }

  async userKeyByName(username: string): Promise<(VaultKey & { streamId: string }) | null> {
    const row = this.db.prepare("SELECT key_id, secret, stream_id FROM keys WHERE username = ? AND kind = 'user'").get(username) as
      | { key_id: string; secret: Buffer; stream_id: string }
      | undefined;
    return row ? { keyId: row.key_id, secret: row.secret, streamId: row.stream_id } : null;
  }

  async usernames(streamIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (streamIds.length === 0) return found;
    for (const row of this.sql.usernames.all(JSON.stringify(streamIds)) as { stream_id: string; username: string }[]) found.set(row.stream_id, row.username);
    return found;
  }

  async keysFor(requests: readonly KeyRequest[]): Promise<StreamKeys[]> {
    const { insert, userKey } = this.sql;
    return this.write(() => {
      const at = new Date().toISOString();
      return requests.map(({ streamId, username, passwords }) => {
        let user: VaultKey = { keyId: newKeyId('user'), secret: newSecret() };
        // Not inserted: the stream has its user key already (or another writer made it first).
        if (insert.run(user.keyId, streamId, 'user', username, user.secret, at).changes === 0) {
          const row = userKey.get(streamId) as { key_id: string; secret: Buffer } | undefined;
          if (!row) throw new Error(`the vault has no user key for stream ${streamId}, and cannot make one`);
          user = { keyId: row.key_id, secret: row.secret };
        }
        const made = Array.from({ length: passwords }, () => ({ keyId: newKeyId('password'), secret: newSecret() }));
        for (const key of made) insert.run(key.keyId, streamId, 'password', null, key.secret, at);
        return { user, passwords: made };
      });
    });
  }

  async passwordKeys(streamId: string): Promise<VaultKey[]> {
    const rows = this.db.prepare("SELECT key_id, secret FROM keys WHERE stream_id = ? AND kind = 'password' ORDER BY rowid").all(streamId) as { key_id: string; secret: Buffer }[];
    return rows.map((row) => ({ keyId: row.key_id, secret: row.secret }));
  }

  async shred(streamId: string, what: { all: true } | { passwordsExcept: string | null }): Promise<number> {
    const info = await this.write(() =>
      'all' in what ? this.sql.shredAll.run(streamId) : this.sql.shredPasswords.run(streamId, what.passwordsExcept),
    );
    return info.changes;
  }

  /**
   * Group commit: the writes asked for in one turn of the event loop (an import's many users, a
   * server's concurrent logins) share one durable transaction, resolved only once it is committed,
   * so a key is on disk before any event sealed with it is appended. A failing batch is retried one
   * write per transaction, so one bad write fails alone.
   */
  private write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    let results: unknown[];
    try {
      results = this.db.transaction(() => batch.map((w) => w.run()))();
    } catch {
      for (const w of batch) {
        try {
          w.resolve(this.db.transaction(w.run)());
        } catch (error) {
          w.reject(error);
        }
      }
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

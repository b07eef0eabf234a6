import { randomBytes } from 'node:crypto';
import type { KeyRequest, StreamKeys, Vault, VaultKey } from './port.js';
import { newKeyId, newSecret } from './seal.js';

interface Row {
  streamId: string;
  kind: 'user' | 'password';
  username: string | null;
  secret: Buffer;
}

/** A vault in process memory, for `sqlite::memory:` logs and tests. */
export class MemoryVault implements Vault {
  readonly where = 'memory';
  private readonly rows = new Map<string, Row>();
  private readonly salt = randomBytes(32);

  async pepper(): Promise<Buffer> {
    return this.salt;
  }

  async keys(keyIds: readonly string[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    for (const id of keyIds) {
      const row = this.rows.get(id);
      if (row) found.set(id, row.secret);
    }
    return found;
  }

  private userRow(streamId: string): [string, Row] | undefined {
    for (const entry of this.rows) if (entry[1].streamId === streamId && entry[1].kind === 'user') return entry;
    return undefined;
  }

  async userKey(streamId: string, create?: { username: string }): Promise<VaultKey | null> {
    const found = this.userRow(streamId);
    if (found) return { keyId: found[0], secret: found[1].secret };
    if (!create) return null;
    const keyId = newKeyId('user');
    const secret = newSecret();
    this.rows.set(keyId, { streamId, kind: 'user', username: create.username, secret });
    return { keyId, secret };
  }

  async userKeyByName(username: string): Promise<(VaultKey & { streamId: string }) | null> {
    for (const [keyId, row] of this.rows) {
      if (row.kind === 'user' && row.username === username) return { keyId, secret: row.secret, streamId: row.streamId };
    }
    return null;
  }

  async usernames(streamIds: readonly string[]): Promise<Map<string, string>> {
    const wanted = new Set(streamIds);
    const found = new Map<string, string>();
    for (const row of this.rows.values()) {
      if (row.kind === 'user' && row.username !== null && wanted.has(row.streamId)) found.set(row.streamId, row.username);
    }
    return found;
  }

  async keysFor(requests: readonly KeyRequest[]): Promise<StreamKeys[]> {
    return Promise.all(
      requests.map(async ({ streamId, username, passwords }) => {
        const user = (await this.userKey(streamId, { username }))!;
        const made = Array.from({ length: passwords }, () => ({ keyId: newKeyId('password'), secret: newSecret() }));
        for (const key of made) this.rows.set(key.keyId, { streamId, kind: 'password', username: null, secret: key.secret });
        return { user, passwords: made };
      }),
    );
  }

  async passwordKeys(streamId: string): Promise<VaultKey[]> {
    return [...this.rows].filter(([, row]) => row.streamId === streamId && row.kind === 'password').map(([keyId, row]) => ({ keyId, secret: Buffer.from(row.secret) }));
  }

  async shred(streamId: string, what: { all: true } | { passwordsExcept: string | null }): Promise<number> {
    let count = 0;
    for (const [keyId, row] of [...this.rows]) {
      if (row.streamId !== streamId) continue;
      const gone = 'all' in what || (row.kind === 'password' && keyId !== what.passwordsExcept);
      if (gone) {
        row.secret.fill(0);
        this.rows.delete(keyId);
        count += 1;
      }
    }
    return count;
  }

  async close(): Promise<void> {}
}

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openVault } from '../../../src/eventstore/vault/open.js';
import type { Vault, VaultKey } from '../../../src/eventstore/vault/port.js';
import { pgSchemas } from '../postgres-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-vault-'));
const schemas = pgSchemas('vault');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await schemas.dropAll();
});

const kinds: [string, () => string][] = [
  ['memory', () => 'memory:'],
  ['SQLite', () => `sqlite:${join(dir, `v-${Math.random().toString(36).slice(2)}`, 'x.vault.db')}`],
  ['PostgreSQL', () => schemas.url()],
];

describe.each(kinds)('the %s vault', (_name, url) => {
  async function withVault<T>(use: (vault: Vault, url: string) => Promise<T>, at = url()): Promise<T> {
    const vault = await openVault(at);
    try {
      return await use(vault, at);
    } finally {
      await vault.close();
    }
  }

  it('keeps one pepper, and one user key per stream even when made twice at once', async () => {
    await withVault(async (vault) => {
      const pepper = await vault.pepper();
      expect(pepper).toHaveLength(32);
      expect(await vault.pepper()).toEqual(pepper);
      const [a, b] = await Promise.all([vault.userKey('user-s1', { username: 'carol' }), vault.userKey('user-s1', { username: 'carol' })]);
      expect(a!.keyId).toBe(b!.keyId);
      expect(a!.secret.equals(b!.secret)).toBe(true);
      expect(await vault.userKey('user-s2')).toBeNull();
      expect((await vault.userKeyByName('carol'))?.streamId).toBe('user-s1');
      expect(await vault.usernames(['user-s1', 'user-s2'])).toEqual(new Map([['user-s1', 'carol']]));
    });
  });

  it('shreds the password keys but the current one, or every key of a stream, and nothing of other streams', async () => {
    await withVault(async (vault) => {
      const user = (await vault.userKey('user-c', { username: 'carol' }))!;
      const other = (await vault.userKey('user-d', { username: 'dave' }))!;
      const passwordKeys = async (streamId: string, username: string, passwords: number) => (await vault.keysFor([{ streamId, username, passwords }]))[0]!.passwords;
      const [p1, p2] = (await passwordKeys('user-c', 'carol', 2)) as [VaultKey, VaultKey];
      const [p3] = (await passwordKeys('user-c', 'carol', 1)) as [VaultKey];
      const [dp] = (await passwordKeys('user-d', 'dave', 1)) as [VaultKey];
      const ofCarol = (keys: { keyId: string }[]) => keys.map((k) => k.keyId).sort();
      expect(ofCarol(await vault.passwordKeys('user-c'))).toEqual([p1.keyId, p2.keyId, p3.keyId].sort());
      expect(await vault.shred('user-c', { passwordsExcept: p3.keyId })).toBe(2);
      expect(await vault.passwordKeys('user-c')).toEqual([{ keyId: p3.keyId, secret: p3.secret }]);
      const ids = [user.keyId, other.keyId, p1.keyId, p2.keyId, p3.keyId, dp.keyId];
      expect([...(await vault.keys(ids)).keys()].sort()).toEqual([user.keyId, other.keyId, p3.keyId, dp.keyId].sort());
      expect(await vault.shred('user-c', { all: true })).toBe(2);
      expect(await vault.passwordKeys('user-c')).toEqual([]);
      expect([...(await vault.keys(ids)).keys()].sort()).toEqual([other.keyId, dp.keyId].sort());
      expect(await vault.userKeyByName('carol')).toBeNull();
      expect(await vault.usernames(['user-c'])).toEqual(new Map());
    });
  });

  it('makes the keys of many streams in one call: user keys made or found (also when two calls race), one key per password', async () => {
    await withVault(async (vault) => {
      const carol = (await vault.userKey('user-c', { username: 'carol' }))!;
      const asked = [
        { streamId: 'user-c', username: 'carol', passwords: 1 },
        { streamId: 'user-d', username: 'dave', passwords: 2 },
        { streamId: 'user-e', username: 'erin', passwords: 0 },
      ];
      const [first, second] = await Promise.all([vault.keysFor(asked), vault.keysFor(asked)]);
      expect(first!.map((keys) => keys.user.keyId)).toEqual(second!.map((keys) => keys.user.keyId));
      expect(first![0]!.user).toEqual(carol);
      expect(first!.map((keys) => keys.passwords.length)).toEqual([1, 2, 0]);
      expect(await vault.usernames(['user-c', 'user-d', 'user-e'])).toEqual(new Map([['user-c', 'carol'], ['user-d', 'dave'], ['user-e', 'erin']]));
      const made = [...first!, ...second!].flatMap((keys) => [keys.user, ...keys.passwords]);
      const stored = await vault.keys(made.map((key) => key.keyId));
      for (const key of made) expect(stored.get(key.keyId)).toEqual(key.secret);
      expect(new Set(made.map((key) => key.keyId)).size).toBe(3 + 2 * 3);
    });
  });

  it('keeps keys across reopening (another process sees the same vault)', async () => {
    const at = url();
    if (at === 'memory:') return;
    const made = await withVault((vault) => vault.userKey('user-x', { username: 'xavier' }), at);
    const pepper = await withVault((vault) => vault.pepper(), at);
    await withVault(async (vault) => {
      expect((await vault.keys([made!.keyId])).get(made!.keyId)).toEqual(made!.secret);
      expect(await vault.pepper()).toEqual(pepper);
    }, at);
  });
});

it('makes the SQLite vault file readable by its owner only', async () => {
  const path = join(dir, 'perm', 'x.vault.db');
  const vault = await openVault(`sqlite:${path}`);
  await vault.close();
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, 'perm')).mode & 0o777).toBe(0o700);
});

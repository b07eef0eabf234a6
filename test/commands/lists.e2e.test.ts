import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freshStore, ledgerOf, tl } from './cli.js';

describe('token list / user list', () => {
  it('never show a key, a digest or a password hash, and --json is one JSON document', async () => {
    const { url: store } = freshStore();
    const ledger = await ledgerOf(store);
    await ledger.registerUser({ username: 'alice', password: 'wonderland-123', isStaff: true });
    await ledger.registerUser({ username: 'bob', password: null });
    const keys: string[] = [];
    for (const input of [{ username: 'alice' }, { username: 'alice', name: 'ci', format: 'drf' as const, scopes: ['tokens:read'] }, { username: 'bob' }]) {
      keys.push((await ledger.issueToken(input)).key);
    }
    await ledger.close();
    const secrets = [...keys, ...keys.map((key) => createHash('sha256').update(key).digest('hex')), '$argon2id$', 'wonderland-123'];

    const [tokens, aliceTokens, users, usersTable] = await Promise.all([
      tl(['token', 'list', '--json'], { store }),
      tl(['token', 'list', 'alice'], { store }),
      tl(['user', 'list', '--json'], { store }),
      tl(['user', 'list'], { store }),
    ]);
    for (const run of [tokens, aliceTokens, users, usersTable]) {
      expect(run.code).toBe(0);
      for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
    }

    const tokenList = JSON.parse(tokens.stdout).results;
    expect(tokenList.map((t: { username: string; name: string; keyPrefix: string }) => [t.username, t.name, t.keyPrefix])).toEqual([
      ['alice', 'default', keys[0]!.slice(0, 8)],
      ['alice', 'ci', keys[1]!.slice(0, 8)],
      ['bob', 'default', keys[2]!.slice(0, 8)],
    ]);
    expect(aliceTokens.stdout).toContain(keys[1]!.slice(0, 8));
    expect(aliceTokens.stdout).not.toContain(keys[2]!.slice(0, 8));

    const userList = JSON.parse(users.stdout).results;
    expect(userList).toMatchObject([
      { username: 'alice', active: true, isStaff: true, hasPassword: true, tokens: 2 },
      { username: 'bob', active: true, isStaff: false, hasPassword: false, tokens: 1 },
    ]);
    expect(usersTable.stdout.split('\n')[0]).toMatch(/^USERNAME\s+ACTIVE\s+STAFF/);
  });
});

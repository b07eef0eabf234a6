import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execute, loadUser } from '../../src/app/execute.js';
import { login, type LoginPolicy } from '../../src/app/login.js';
import { userStreamId } from '../../src/domain/index.js';
import { TEST_ACTOR, tempLedger } from './ledger-fixture.js';

// Written by tokenledger's previous hashPassword (scrypt, ln=15) for "café-wonderland".
const LEGACY_SCRYPT = '$scrypt$ln=15,r=8,p=1$BqXfDHsirsPkd4SnfOivhA$IDhi3kCwmq+qV8v3mNfBm7Jvkf33zqkSwDmXeDJx9wE';
// Made by real Django 3.2 for "wonderland-123" (research §2.2).
const DJANGO_PBKDF2 = 'pbkdf2_sha256$260000$i7ku9LgFaXOfnGl6C8IQrw$sEJfjhS2m+7vZraGjwJGu6NfBEusUshhlfcDIn3fPtw=';

const POLICY: LoginPolicy = { ttlMs: 3_600_000, limit: null };
const HTTP = { actor: 'anonymous', channel: 'http' as const, source: '203.0.113.9' };

let t: ReturnType<typeof tempLedger>;
beforeEach(() => {
  t = tempLedger();
});
afterEach(() => t.dispose());

/** A user whose stored string is `passwordHash` as given (as an import or an older version left it), with a named token. */
async function userWith(username: string, passwordHash: string): Promise<string> {
  await execute(t.ledger.deps, username, TEST_ACTOR, (now) => ({
    type: 'RegisterUser',
    data: { userId: `id-${username}`, username, isStaff: false, isSuperuser: false, passwordHash, now },
  }));
  return (await t.ledger.issueToken({ username, name: 'ci' })).key;
}

const typesOf = async (username: string) => (await t.store.readStream(userStreamId(username))).map((e) => e.type);
const rehashes = async (username: string) =>
  (await t.store.readStream(userStreamId(username))).filter((e) => e.type === 'UserPasswordRehashed');

describe('a good login against an older scheme re-hashes the password', () => {
  for (const [label, username, stored, password] of [
    ['tokenledger\'s legacy scrypt', 'legacy', LEGACY_SCRYPT, 'caf\u00e9-wonderland'],
    ['a Django pbkdf2_sha256 hash', 'django', DJANGO_PBKDF2, 'wonderland-123'],
  ] as const) {
    it(`${label}: one UserPasswordRehashed, the next login verifies against it, tokens untouched`, async () => {
      const key = await userWith(username, stored);
      const first = await login(t.ledger.deps, HTTP, { username, password }, POLICY);
      expect(first.ok).toBe(true);
      const [event, ...more] = await rehashes(username);
      expect(more).toEqual([]);
      const rehashed = (event!.data as { passwordHash: string }).passwordHash;
      expect(rehashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      // The login's own actor and channel; the user is who acted, as for the login token.
      expect(event!.metadata).toMatchObject({ actor: username, channel: 'http', source: '203.0.113.9' });
      const state = await loadUser(t.ledger.deps, username);
      expect(state.exists && state.passwordHash).toBe(rehashed);

      // Not a password change: the token issued before still opens the door, and nothing was revoked.
      expect(await t.ledger.verifyKey(key)).toMatchObject({ outcome: 'valid', username, name: 'ci' });
      expect(await typesOf(username)).toEqual(['UserRegistered', 'TokenIssued', 'UserPasswordRehashed', 'TokenIssued']);

      // The next login verifies against the new string (the old one is gone) and re-hashes nothing.
      expect((await login(t.ledger.deps, HTTP, { username, password }, POLICY)).ok).toBe(true);
      expect(await rehashes(username)).toHaveLength(1);
      expect((await login(t.ledger.deps, HTTP, { username, password: `${password}x` }, POLICY)).ok).toBe(false);
    });
  }

  it('a wrong password re-hashes nothing', async () => {
    await userWith('django', DJANGO_PBKDF2);
    expect(await login(t.ledger.deps, HTTP, { username: 'django', password: 'wonderland-124' }, POLICY)).toEqual({ ok: false, reason: 'bad_password' });
    expect(await typesOf('django')).toEqual(['UserRegistered', 'TokenIssued']);
  });

  it('an inactive user with the right password is refused, and re-hashed as Django does', async () => {
    await userWith('django', DJANGO_PBKDF2);
    await t.ledger.deactivateUser('django');
    expect(await login(t.ledger.deps, HTTP, { username: 'django', password: 'wonderland-123' }, POLICY)).toEqual({ ok: false, reason: 'inactive' });
    expect(await rehashes('django')).toHaveLength(1);
  });

  it('racing first logins append one re-hash between them', async () => {
    await userWith('django', DJANGO_PBKDF2);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => login(t.ledger.deps, HTTP, { username: 'django', password: 'wonderland-123' }, POLICY)),
    );
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
    expect(await rehashes('django')).toHaveLength(1);
  });

  it('a password set by hashPassword today is never re-hashed', async () => {
    await t.ledger.registerUser({ username: 'native', password: 'n0w-current' });
    expect((await login(t.ledger.deps, HTTP, { username: 'native', password: 'n0w-current' }, POLICY)).ok).toBe(true);
    expect(await typesOf('native')).toEqual(['UserRegistered', 'TokenIssued']);
  });
});

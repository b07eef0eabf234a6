import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError, digestKey } from '../../src/domain/index.js';
import { tempLedger } from './ledger-fixture.js';

const MIN = 60_000;
let fixture: ReturnType<typeof tempLedger>;

afterEach(async () => {
  await fixture.dispose();
});

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('application services: input rules', () => {
  it('refuses bad usernames, token names, scopes and durations with invalid_input, appending nothing', async () => {
    fixture = tempLedger();
    const { ledger, store } = fixture;
    await ledger.registerUser({ username: 'alice', password: null });
    const head = await store.headPosition();
    const cases: [Promise<unknown>, RegExp][] = [
      [ledger.registerUser({ username: 'bad name', password: null }), /^username: /],
      [ledger.registerUser({ username: 'x'.repeat(151), password: null }), /^username: /],
      [ledger.issueToken({ username: 'alice', name: '-x' }), /^name: /],
      [ledger.issueToken({ username: 'alice', scopes: ['has space'] }), /^scope: /],
      [ledger.issueToken({ username: 'alice', expiresIn: 'soon' }), /^expires-in: "soon" is not a duration/],
      // Far-future expiries would leave ISO's 4-digit years (or throw a RangeError): refused up front.
      [ledger.issueToken({ username: 'alice', expiresIn: '3000000d' }), /^expires-in: .*at most 36500d/],
      [ledger.issueToken({ username: 'alice', expiresIn: '99999999d' }), /^expires-in: /],
      [ledger.rotateToken({ username: 'alice', grace: '10 minutes' }), /^grace: /],
    ];
    for (const [promise, message] of cases) {
      const error = await refusal(promise);
      expect(error.code).toBe('invalid_input');
      expect(error.message).toMatch(message);
    }
    expect(await store.headPosition()).toBe(head);
  });

  it('accepts Django usernames and the longest allowed expiry', async () => {
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'a.b+c-d_e@example.org', password: null });
    const { token } = await fixture.ledger.issueToken({ username: 'a.b+c-d_e@example.org', expiresIn: '36500d' });
    expect(token.expiresAt).toBe('2129-12-08T00:00:00.000Z');
  });

  it('activating or deactivating twice is not an error, and says nothing changed', async () => {
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'alice', password: null });
    expect((await fixture.ledger.deactivateUser('alice')).changed).toBe(true);
    expect((await fixture.ledger.deactivateUser('alice')).changed).toBe(false);
    expect((await fixture.ledger.activateUser('alice')).changed).toBe(true);
  });
});

describe('lists', () => {
  it('never show a key, a digest or a password hash (and the log holds no key or password)', async () => {
    fixture = tempLedger();
    const { ledger } = fixture;
    await ledger.registerUser({ username: 'alice', password: 'wonderland-123', isStaff: true });
    const first = await ledger.issueToken({ username: 'alice', scopes: ['tokens:read'] });
    const second = await ledger.rotateToken({ username: 'alice', grace: '10m' });
    const users = (await ledger.listUsers()).results;
    const tokens = (await ledger.listTokens()).results;
    expect(users).toMatchObject([{ username: 'alice', isStaff: true, hasPassword: true, active: true, tokens: 1 }]);
    expect(tokens).toMatchObject([{ username: 'alice', name: 'default', keyPrefix: second.key.slice(0, 8), scopes: ['tokens:read'] }]);
    const text = JSON.stringify({ users, tokens });
    for (const secret of [first.key, second.key, digestKey(first.key), digestKey(second.key), 'wonderland-123', '$argon2id$']) {
      expect(text).not.toContain(secret);
    }
    // Nor does the log itself hold a key or a password: the SQLite file and its WAL, byte for byte.
    await ledger.setPassword('alice', 'looking-glass-456');
    await ledger.revokeToken({ username: 'alice' });
    const files = ['events.db', 'events.db-wal'].map((f) => join(fixture.dir, f)).filter(existsSync);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(bytes.includes(digestKey(second.key))).toBe(true); // the scan does see what the log holds
    for (const secret of [first.key, second.key, 'wonderland-123', 'looking-glass-456']) expect(bytes.includes(secret)).toBe(false);
  });

  it('as of a past time, leave out tokens not yet issued, revoked or expired by then', async () => {
    fixture = tempLedger();
    const { ledger, advance, now } = fixture;
    await ledger.registerUser({ username: 'alice', password: null });
    await ledger.issueToken({ username: 'alice', expiresIn: '30m' });
    const t1 = advance(5 * MIN).toISOString();
    advance(5 * MIN);
    await ledger.issueToken({ username: 'alice', name: 'ci' });
    const t2 = advance(5 * MIN).toISOString();
    advance(5 * MIN);
    await ledger.revokeToken({ username: 'alice', name: 'ci' });
    advance(60 * MIN);
    const names = async (at?: string) =>
      (at === undefined ? (await ledger.listTokens({ user: 'alice' })).results : await ledger.tokensAt('alice', at)).map((t) => t.name);
    expect(await names(t1)).toEqual(['default']);
    expect(await names(t2)).toEqual(['default', 'ci']);
    expect(await names(now().toISOString())).toEqual([]);
    expect(await names()).toEqual(['default']); // now: the expired token still holds its name
  });
});

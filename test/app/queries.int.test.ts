import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/domain/index.js';
import { tempLedger } from './ledger-fixture.js';

const MIN = 60_000;
let fixture: ReturnType<typeof tempLedger>;

afterEach(async () => {
  await fixture.dispose();
});

async function withAlice() {
  fixture = tempLedger();
  await fixture.ledger.registerUser({ username: 'alice', password: null });
  return fixture;
}

/** One character of a key changed to another base62 character. */
const mistyped = (key: string) => key.slice(0, 10) + (key[10] === 'A' ? 'B' : 'A') + key.slice(11);

describe('verifyKey (from the log alone)', () => {
  it('valid: names the token and the user', async () => {
    const { ledger } = await withAlice();
    const { key } = await ledger.issueToken({ username: 'alice' });
    expect(await ledger.verifyKey(key)).toMatchObject({ outcome: 'valid', username: 'alice', name: 'default' });
  });

  it('not_found: a well-formed key nobody issued, and a revoked key', async () => {
    const { ledger } = await withAlice();
    const { key } = await ledger.issueToken({ username: 'alice' });
    const stranger = await ledger.verifyKey(generateKey('tl', 'tl', randomBytes));
    expect(stranger).toMatchObject({ outcome: 'not_found', username: null, reason: 'Invalid token.' });
    await ledger.revokeToken({ username: 'alice' });
    expect((await ledger.verifyKey(key)).outcome).toBe('not_found');
  });

  it('bad checksum: not_found, and says why', async () => {
    const { ledger } = await withAlice();
    const { key } = await ledger.issueToken({ username: 'alice' });
    const verdict = await ledger.verifyKey(mistyped(key));
    expect(verdict.outcome).toBe('not_found');
    expect(verdict.reason).toMatch(/checksum/);
  });

  it('keys of another shape (DRF keys) are still looked up, and match exactly', async () => {
    const { ledger } = await withAlice();
    const { key } = await ledger.issueToken({ username: 'alice', format: 'drf' });
    expect(key).toMatch(/^[0-9a-f]{40}$/);
    expect((await ledger.verifyKey(key)).outcome).toBe('valid');
    expect((await ledger.verifyKey(key.toUpperCase())).outcome).toBe('not_found');
  });

  it('expired: at and after the expiry, valid just before', async () => {
    const { ledger, advance } = await withAlice();
    const { key } = await ledger.issueToken({ username: 'alice', expiresIn: '1h' });
    advance(60 * MIN - 1);
    expect((await ledger.verifyKey(key)).outcome).toBe('valid');
    advance(1);
    expect(await ledger.verifyKey(key)).toMatchObject({ outcome: 'expired', reason: 'Token has expired.' });
  });

  it('inactive while the user is deactivated, valid again once activated', async () => {
    const { ledger } = await withAlice();
    const { key } = await ledger.issueToken({ username: 'alice' });
    await ledger.deactivateUser('alice');
    expect(await ledger.verifyKey(key)).toMatchObject({ outcome: 'inactive', reason: 'User inactive or deleted.' });
    await ledger.activateUser('alice');
    expect((await ledger.verifyKey(key)).outcome).toBe('valid');
  });

  it('grace: the old secret works until the grace ends, the new one from the rotation on', async () => {
    const { ledger, advance } = await withAlice();
    const old = await ledger.issueToken({ username: 'alice' });
    advance(MIN);
    const rotated = await ledger.rotateToken({ username: 'alice', grace: '10m' });
    expect(rotated.key).not.toBe(old.key);
    expect((await ledger.verifyKey(old.key)).outcome).toBe('valid');
    expect((await ledger.verifyKey(rotated.key)).outcome).toBe('valid');
    advance(10 * MIN - 1);
    expect((await ledger.verifyKey(old.key)).outcome).toBe('valid');
    advance(1);
    expect((await ledger.verifyKey(old.key)).outcome).toBe('not_found');
    expect((await ledger.verifyKey(rotated.key)).outcome).toBe('valid');
  });

  it('rotation without grace, and --reset: the old secret is dead when the call returns', async () => {
    const { ledger } = await withAlice();
    const first = await ledger.issueToken({ username: 'alice' });
    const second = await ledger.rotateToken({ username: 'alice' });
    expect((await ledger.verifyKey(first.key)).outcome).toBe('not_found');
    const third = await ledger.issueToken({ username: 'alice', reset: true });
    expect((await ledger.verifyKey(second.key)).outcome).toBe('not_found');
    expect((await ledger.verifyKey(third.key)).outcome).toBe('valid');
  });

  it('a rotated DRF key stays a DRF key', async () => {
    const { ledger } = await withAlice();
    await ledger.issueToken({ username: 'alice', format: 'drf' });
    const { key } = await ledger.rotateToken({ username: 'alice' });
    expect(key).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('verifyKey at a past time', () => {
  it('answers for each phase of issue → rotate with grace → revoke → re-issue', async () => {
    const { ledger, advance, now } = await withAlice();
    const beforeIssue = new Date(now().getTime() - 1);
    const t0 = advance(MIN);
    const k1 = (await ledger.issueToken({ username: 'alice' })).key;
    const t1 = advance(10 * MIN);
    const k2 = (await ledger.rotateToken({ username: 'alice', grace: '30m' })).key;
    const t2 = advance(10 * MIN); // inside the grace period
    await ledger.revokeToken({ username: 'alice', reason: 'leaked' });
    const t3 = advance(10 * MIN);
    const k3 = (await ledger.issueToken({ username: 'alice' })).key;
    advance(60 * MIN);

    const plus = (t: Date, ms: number) => new Date(t.getTime() + ms);
    const phases: [string, Date, Record<string, string>][] = [
      ['before the issue', beforeIssue, { k1: 'not_found', k2: 'not_found', k3: 'not_found' }],
      ['the instant of the issue', t0, { k1: 'valid', k2: 'not_found', k3: 'not_found' }],
      ['issued', plus(t0, 5 * MIN), { k1: 'valid', k2: 'not_found', k3: 'not_found' }],
      ['rotated, in grace', plus(t1, 5 * MIN), { k1: 'valid', k2: 'valid', k3: 'not_found' }],
      ['revoked', plus(t2, 5 * MIN), { k1: 'not_found', k2: 'not_found', k3: 'not_found' }],
      ['re-issued', plus(t3, 5 * MIN), { k1: 'not_found', k2: 'not_found', k3: 'valid' }],
      ['now, after the old grace would have ended', now(), { k1: 'not_found', k2: 'not_found', k3: 'valid' }],
    ];
    const keys: Record<string, string> = { k1, k2, k3 };
    for (const [phase, at, expected] of phases) {
      const actual: Record<string, string> = {};
      for (const name of Object.keys(keys)) actual[name] = (await ledger.verifyKey(keys[name]!, at)).outcome;
      expect(actual, phase).toEqual(expected);
      expect((await ledger.verifyKey(k1, at)).at).toBe(at.toISOString());
    }
  });

  it('the old secret, had it not been revoked, is dead once the grace ends', async () => {
    const { ledger, advance } = await withAlice();
    const k1 = (await ledger.issueToken({ username: 'alice' })).key;
    const t1 = advance(MIN);
    await ledger.rotateToken({ username: 'alice', grace: '30m' });
    advance(120 * MIN);
    expect((await ledger.verifyKey(k1, new Date(t1.getTime() + 30 * MIN - 1))).outcome).toBe('valid');
    expect((await ledger.verifyKey(k1, new Date(t1.getTime() + 30 * MIN))).outcome).toBe('not_found');
  });

  it('when the servers that wrote the stream disagreed about the time, the order of the stream decides what came before', async () => {
    const { ledger, advance } = await withAlice();
    const start = advance(0); // a server with the right time
    advance(2 * 60 * MIN); // a server an hour fast (its "12:00" is the right server's 11:00)
    const { key } = await ledger.issueToken({ username: 'alice', name: 'ci' });
    const revoked = (await ledger.issueToken({ username: 'alice', name: 'old' })).key;
    await ledger.revokeToken({ username: 'alice', name: 'old' });
    advance(-60 * MIN); // the right server again, at 11:00: after all of the above in the log
    await ledger.setUserFlags('alice', { isStaff: true });
    const at = new Date(start.getTime() + 90 * MIN); // 11:30, before the fast server's stamps
    // Issued and revoked before an event of 11:00, so by 11:30: the log's order says so, whatever the stamps.
    expect(await ledger.verifyKey(key, at)).toMatchObject({ outcome: 'valid', name: 'ci' });
    expect((await ledger.verifyKey(revoked, at)).outcome).toBe('not_found');
    expect((await ledger.tokensAt('alice', at.toISOString())).map((t) => t.name)).toEqual(['ci']);
    // Before the 11:00 event nothing after the registration counts.
    expect((await ledger.verifyKey(key, new Date(start.getTime() + 30 * MIN))).outcome).toBe('not_found');
  });

  it('answers "inactive" for the time the user was deactivated, and "expired" after the expiry', async () => {
    const { ledger, advance } = await withAlice();
    const { key } = await ledger.issueToken({ username: 'alice', expiresIn: '2h' });
    const t1 = advance(10 * MIN);
    await ledger.deactivateUser('alice');
    const t2 = advance(10 * MIN);
    await ledger.activateUser('alice');
    advance(200 * MIN);
    expect((await ledger.verifyKey(key, new Date(t1.getTime() - 1))).outcome).toBe('valid');
    expect((await ledger.verifyKey(key, new Date(t1.getTime() + MIN))).outcome).toBe('inactive');
    expect((await ledger.verifyKey(key, new Date(t2.getTime() + MIN))).outcome).toBe('valid');
    expect((await ledger.verifyKey(key)).outcome).toBe('expired');
  });
});

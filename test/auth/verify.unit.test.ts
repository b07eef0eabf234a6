import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticator, authenticatorWith, type AuthResult } from '../../src/auth/authenticate.js';
import { LookupTimeoutError } from '../../src/auth/time-bound.js';
import type { LookupCallback, TokenRecord } from '../../src/domain/record.js';
import { digestKey, generateKey } from '../../src/domain/token-format.js';
import { ProjectionUnavailableError } from '../../src/projection/port.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;

function record(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    userId: 'u-1',
    username: 'alice',
    active: true,
    isStaff: false,
    isSuperuser: false,
    tokenId: 't-1',
    name: 'default',
    scopes: [],
    expiresAt: null,
    graceUntil: null,
    ...overrides,
  };
}

/** A lookup over a Map that counts its calls: only the verifier's contract is under test here. */
function lookupOf(entries: [string, TokenRecord][]) {
  const byDigest = new Map(entries.map(([key, rec]) => [digestKey(key), rec]));
  const calls: string[] = [];
  return { calls, lookup: async (digest: string) => (calls.push(digest), byDigest.get(digest) ?? null) };
}

const newKey = () => generateKey('tl', 'tl', (n) => randomBytes(n));

describe('key verification', () => {
  const key = newKey();

  it('answers valid with the record, after exactly one lookup by sha256', async () => {
    const projection = lookupOf([[key, record()]]);
    const result = await authenticator({ projection })(`Token ${key}`);
    expect(result).toEqual({ kind: 'valid', record: record() });
    expect(projection.calls).toEqual([digestKey(key)]);
  });

  it('rejects a tl_ key with a bad checksum without any lookup', async () => {
    const projection = lookupOf([[key, record()]]);
    const flipped = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    const authenticate = authenticator({ projection });
    expect(await authenticate(`Token ${flipped}`)).toEqual({ kind: 'not_found' });
    expect(await authenticate('Token tl_short')).toEqual({ kind: 'not_found' });
    expect(projection.calls).toEqual([]);
  });

  it('looks up keys of any other shape (imported DRF keys), and other prefixes', async () => {
    const drf = generateKey('drf', 'tl', (n) => randomBytes(n));
    const projection = lookupOf([[drf, record()]]);
    expect((await authenticator({ projection })(`Token ${drf}`)).kind).toBe('valid');
    expect((await authenticator({ projection, tokenPrefix: 'acme' })(`Token tl_nope`)).kind).toBe('not_found');
    expect(projection.calls).toHaveLength(2);
  });

  describe('with an injected clock', () => {
    it('expires at expiresAt, not a millisecond later', async () => {
      const projection = lookupOf([[key, record({ expiresAt: T0 + HOUR })]]);
      expect((await authenticator({ projection, clock: () => T0 + HOUR - 1 })(`Token ${key}`)).kind).toBe('valid');
      expect((await authenticator({ projection, clock: () => T0 + HOUR })(`Token ${key}`)).kind).toBe('expired');
    });

    it('a superseded secret works until its grace ends, then is an invalid token', async () => {
      const projection = lookupOf([[key, record({ graceUntil: T0 + 10 * 60_000 })]]);
      expect((await authenticator({ projection, clock: () => T0 + 10 * 60_000 - 1 })(`Token ${key}`)).kind).toBe('valid');
      expect((await authenticator({ projection, clock: () => T0 + 10 * 60_000 })(`Token ${key}`)).kind).toBe('not_found');
    });
  });

  it('an inactive user is inactive; a missing scope is forbidden; no scopes on a token means all', async () => {
    const scoped = newKey();
    const projection = lookupOf([
      [key, record({ active: false })],
      [scoped, record({ scopes: ['tokens:read'] })],
    ]);
    const authenticate = authenticator({ projection });
    expect((await authenticate(`Token ${key}`)).kind).toBe('inactive');
    expect((await authenticate(`Token ${scoped}`, ['tokens:read'])).kind).toBe('valid');
    expect((await authenticate(`Token ${scoped}`, ['tokens:write'])).kind).toBe('forbidden');
    const unscoped = lookupOf([[key, record()]]);
    expect((await authenticator({ projection: unscoped })(`Token ${key}`, ['tokens:write'])).kind).toBe('valid');
  });

  it('header failures never reach the projection', async () => {
    const projection = lookupOf([]);
    const authenticate = authenticator({ projection });
    expect(await authenticate(undefined)).toEqual({ kind: 'none' });
    expect(await authenticate('Token')).toEqual({ kind: 'no_credentials' });
    expect(await authenticate('Token a b')).toEqual({ kind: 'spaces' });
    expect(await authenticate('Token \xff')).toEqual({ kind: 'invalid_characters' });
    expect(projection.calls).toEqual([]);
  });
});

describe('an unreadable projection is unavailable, never an exception', () => {
  const key = newKey();

  it('ProjectionUnavailableError', async () => {
    const cause = new ProjectionUnavailableError('redis down');
    const result = await authenticator({ projection: { lookup: () => Promise.reject(cause) } })(`Token ${key}`);
    expect(result).toEqual({ kind: 'unavailable', cause });
  });

  it('a lookup that throws synchronously', async () => {
    const lookup = () => {
      throw new TypeError('bug');
    };
    expect((await authenticator({ projection: { lookup } })(`Token ${key}`)).kind).toBe('unavailable');
  });

  it('a lookup slower than the timeout, even one that fails later', async () => {
    const late = (ms: number, fail: boolean) =>
      new Promise<TokenRecord | null>((resolve, reject) => setTimeout(() => (fail ? reject(new Error('late')) : resolve(record())), ms));
    for (const fail of [false, true]) {
      const started = Date.now();
      const result = await authenticator({ projection: { lookup: () => late(200, fail) }, lookupTimeoutMs: 30 })(`Token ${key}`);
      expect(result.kind).toBe('unavailable');
      expect(result.kind === 'unavailable' && result.cause).toBeInstanceOf(LookupTimeoutError);
      expect(Date.now() - started).toBeLessThan(190);
    }
    await new Promise((r) => setTimeout(r, 200));
  });

  it('lookups of one turn share a time bound; a lookup of a later turn gets its own', async () => {
    const after = (ms: number) => new Promise<TokenRecord | null>((resolve) => setTimeout(() => resolve(record()), ms));
    const delays = [10, 150, 40];
    let call = 0;
    const authenticate = authenticator({ projection: { lookup: () => after(delays[call++]!) }, lookupTimeoutMs: 80 });
    // One turn: a fast and a slow lookup share the bound; only the slow one outlives it.
    const first = [authenticate(`Token ${key}`), authenticate(`Token ${key}`)];
    await new Promise((r) => setTimeout(r, 60));
    // A later turn, 60 ms on, answered at 100 ms: its bound runs from its own start (140 ms), not the first turn's (80 ms).
    const third = authenticate(`Token ${key}`);
    expect((await Promise.all(first)).map((r) => r.kind)).toEqual(['valid', 'unavailable']);
    expect((await third).kind).toBe('valid');
    await new Promise((r) => setTimeout(r, 150));
  });
});

describe('a projection with lookupWith (the callback form the built-in ones have)', () => {
  const key = newKey();
  const unused = () => Promise.reject(new Error('the promise form was used'));

  it('is read through lookupWith, never its promise form, and the result is the same', async () => {
    const seen: string[] = [];
    const lookupWith = (digest: string, callback: LookupCallback) => {
      seen.push(digest);
      setImmediate(() => callback(undefined, record()));
    };
    const result = await authenticator({ projection: { lookup: unused, lookupWith }, clock: () => T0 })(`Token ${key}`);
    expect(result).toEqual({ kind: 'valid', record: record() });
    expect(seen).toEqual([digestKey(key)]);
  });

  it('a failure, a lookupWith that throws at once, and one that answers before it returns', async () => {
    const cause = new ProjectionUnavailableError('redis down');
    const failing = { lookup: unused, lookupWith: (_d: string, callback: LookupCallback) => setImmediate(() => callback(cause)) };
    expect(await authenticator({ projection: failing })(`Token ${key}`)).toEqual({ kind: 'unavailable', cause });
    const bug = new TypeError('bug');
    const throwing = {
      lookup: unused,
      lookupWith: () => {
        throw bug;
      },
    };
    expect(authenticator({ projection: throwing })(`Token ${key}`)).toEqual({ kind: 'unavailable', cause: bug });
    const synchronous = { lookup: unused, lookupWith: (_d: string, callback: LookupCallback) => callback(undefined, null) };
    expect(await authenticator({ projection: synchronous })(`Token ${key}`)).toEqual({ kind: 'not_found' });
  });

  it('a lookupWith that answers at once and then throws: the answer stands, the throw is not a second answer', async () => {
    const answered: AuthResult[] = [];
    const quirky = {
      lookup: unused,
      lookupWith: (_d: string, callback: LookupCallback) => {
        callback(undefined, record());
        throw new TypeError('after the answer');
      },
    };
    const authenticate = authenticatorWith({ projection: quirky, clock: () => T0 });
    expect(() => authenticate(`Token ${key}`, [], (r) => answered.push(r))).toThrow('after the answer');
    expect(answered).toEqual([{ kind: 'valid', record: record() }]);
  });

  it('answers once: a second answer, or an answer after the time bound, is dropped', async () => {
    const results: AuthResult[] = [];
    let answer: LookupCallback = () => {};
    const twice = { lookup: unused, lookupWith: (_d: string, callback: LookupCallback) => void (answer = callback) };
    const authenticate = authenticatorWith({ projection: twice, clock: () => T0, lookupTimeoutMs: 20 });
    expect(authenticate(`Token ${key}`, [], (r) => results.push(r))).toBeUndefined();
    answer(undefined, record());
    answer(undefined, null);
    expect(results).toEqual([{ kind: 'valid', record: record() }]);
    expect(authenticate(`Token ${key}`, [], (r) => results.push(r))).toBeUndefined();
    await new Promise((r) => setTimeout(r, 60));
    answer(undefined, record());
    expect(results.map((r) => r.kind)).toEqual(['valid', 'unavailable']);
    expect(results[1]!.kind === 'unavailable' && results[1]!.cause).toBeInstanceOf(LookupTimeoutError);
  });

  it('a clock that throws after the lookup fails closed (unavailable), and the callback is still called', async () => {
    const lookupWith = (_d: string, callback: LookupCallback) => setImmediate(() => callback(undefined, record()));
    const clock = () => {
      throw new Error('no time');
    };
    const result = await authenticator({ projection: { lookup: unused, lookupWith }, clock })(`Token ${key}`);
    expect(result.kind).toBe('unavailable');
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ERASED, UNREADABLE, isSealed, keyIdOf, newKeyId, newSecret, seal, unseal } from '../../../src/eventstore/vault/seal.js';

describe('sealed fields (sealed:v1)', () => {
  const keyId = newKeyId('user');
  const secret = newSecret();

  it('round-trips any JSON value, and names its key but not its content', () => {
    for (const value of ['carol@example.org', '$argon2id$v=19$m=19456,t=2,p=1$abc$def', 42, null, ['a'], { a: 1 }]) {
      const sealed = seal(value, keyId, secret);
      expect(sealed).toMatch(/^sealed:v1:u[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
      expect(isSealed(sealed)).toBe(true);
      expect(keyIdOf(sealed)).toBe(keyId);
      expect(unseal(sealed, secret)).toEqual(value);
    }
    const twice = [seal('carol', keyId, secret), seal('carol', keyId, secret)];
    expect(twice[0]).not.toBe(twice[1]); // a fresh IV each time: equal values do not look equal
    expect(twice[0]).not.toContain('carol');
  });

  it('reads ERASED without its key, UNREADABLE with the wrong key or edited bytes', () => {
    const sealed = seal('carol', keyId, secret);
    expect(unseal(sealed, undefined)).toBe(ERASED);
    expect(unseal(sealed, randomBytes(32))).toBe(UNREADABLE);
    const body = sealed.slice(sealed.lastIndexOf(':') + 1);
    const flipped = `${body.slice(0, 20)}${body[20] === 'A' ? 'B' : 'A'}${body.slice(21)}`;
    expect(unseal(sealed.replace(body, flipped), secret)).toBe(UNREADABLE);
    // The key id is authenticated too: a ciphertext moved under another key id does not open.
    const other = newKeyId('user');
    expect(unseal(sealed.replace(keyId, other), secret)).toBe(UNREADABLE);
  });

  it('makes key ids that are distinct and sort as the time of their making (an import\'s keys side by side in the index)', () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const start = Date.now();
      while (Date.now() === start) {
        // the next millisecond
      }
      ids.push(newKeyId(i % 2 === 0 ? 'user' : 'password').slice(1));
    }
    expect([...ids].sort()).toEqual(ids);
    const many = Array.from({ length: 10_000 }, () => newKeyId('password'));
    expect(new Set(many).size).toBe(many.length);
    for (const id of many) expect(id).toMatch(/^p[A-Za-z0-9_-]{22}$/);
    // 80 random bits after the time: the ids of one millisecond still differ in their tails.
    expect(new Set(many.map((id) => id.slice(9))).size).toBe(many.length);
  });

  it('leaves values that are not sealed as they are (events from before sealing)', () => {
    expect(unseal('carol', undefined)).toBe('carol');
    expect(unseal(null, undefined)).toBe(null);
    expect(isSealed('sealed')).toBe(false);
    expect(keyIdOf('sealed:v1:nope')).toBeNull();
  });
});

import { hash } from '@node-rs/argon2';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARGON2ID, ARGON2ID_COST } from '../../../src/app/passwords/argon2id.js';
import { algorithmOf, hashPassword, MAX_PASSWORD_BYTES, verifyPassword } from '../../../src/app/passwords/index.js';
import { DomainError } from '../../../src/domain/index.js';

// PHC string, standard base64 without padding: 16 salt bytes are 22 characters, 32 hash bytes 43.
const PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;
const PASSWORD = 'caf\u00e9-wonderland';

let hashes: string[];
beforeAll(async () => {
  hashes = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
});

/** An argon2id string made without the module under test, at other parameters. */
const argon2idAt = (password: string, cost: { memoryCost: number; timeCost: number; parallelism: number }) =>
  hash(password, { algorithm: ARGON2ID, ...cost });

describe('hashPassword', () => {
  it('writes argon2id at OWASP\'s minimum (m=19456 KiB, t=2, p=1), with a fresh salt each time', () => {
    const [a, b] = hashes as [string, string];
    expect(a).toMatch(PHC);
    expect(b).toMatch(PHC);
    expect(PHC.exec(a)![1]).not.toBe(PHC.exec(b)![1]);
    expect(a).not.toContain('wonderland');
  });

  it('hashes the NFKC form: every spelling of the password verifies, a different password does not', async () => {
    expect(await verifyPassword(PASSWORD, hashes[0]!)).toEqual({ ok: true, rehash: false });
    expect(await verifyPassword('cafe\u0301-wonderland', hashes[0]!)).toEqual({ ok: true, rehash: false });
    expect(await verifyPassword('cafe-wonderland', hashes[1]!)).toEqual({ ok: false, rehash: false });
    const ligature = await hashPassword('\ufb01sh');
    expect((await verifyPassword('fish', ligature)).ok).toBe(true);
  });

  it('refuses a password over 4096 UTF-8 bytes before hashing, naming the field', async () => {
    // 1366 × "€" (3 bytes each) is 4098 bytes in 1366 characters: the limit counts bytes.
    for (const long of ['x'.repeat(MAX_PASSWORD_BYTES + 1), '\u20ac'.repeat(1366)]) {
      const refusal = await hashPassword(long).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(DomainError);
      expect(refusal).toMatchObject({ code: 'invalid_input', details: { field: 'password' } });
      expect((refusal as Error).message).toBe('password: Passwords are at most 4096 bytes (UTF-8).');
    }
    expect(await hashPassword('x'.repeat(MAX_PASSWORD_BYTES))).toMatch(PHC);
  });
});

describe('verifying argon2id', () => {
  it('asks for a rehash when the parameters are not today\'s, weaker or stronger', async () => {
    expect(algorithmOf(hashes[0]!)).toBe('argon2id');
    for (const cost of [
      { ...ARGON2ID_COST, timeCost: 1 },
      { ...ARGON2ID_COST, memoryCost: 8192 },
      { ...ARGON2ID_COST, memoryCost: 47104, timeCost: 1 },
      { ...ARGON2ID_COST, parallelism: 2 },
    ]) {
      const stored = await argon2idAt(PASSWORD, cost);
      expect(algorithmOf(stored)).toBe('argon2id');
      expect(await verifyPassword(PASSWORD, stored), stored).toEqual({ ok: true, rehash: true });
      expect(await verifyPassword('wrong', stored), stored).toEqual({ ok: false, rehash: false });
    }
  });

  it('is tokenledger\'s only with `$argon2id$`: a bare argon2i or argon2d string is unsupported', () => {
    expect(algorithmOf(hashes[0]!.replace('$argon2id$', '$argon2i$'))).toBe('unsupported');
    expect(algorithmOf(hashes[0]!.replace('$argon2id$', '$argon2d$'))).toBe('unsupported');
    expect(algorithmOf(hashes[0]!.replace(/\$[^$]+$/, '$'))).toBe('unsupported');
  });
});

import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { algorithmOf, verifyPassword } from '../../../src/app/passwords/index.js';

/** A string in the format tokenledger wrote before argon2id, made without the module under test. */
function legacyOf(password: string, ln = 10, encoding: 'base64' | 'base64url' = 'base64'): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize('NFKC'), salt, 32, { N: 2 ** ln, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const enc = (b: Buffer) => b.toString(encoding).replace(/=+$/, '');
  return `$scrypt$ln=${ln},r=8,p=1$${enc(salt)}$${enc(key)}`;
}

// Written by the previous hashPassword (ln=15, the cost it used) for "café-wonderland".
const WRITTEN_BEFORE = '$scrypt$ln=15,r=8,p=1$BqXfDHsirsPkd4SnfOivhA$IDhi3kCwmq+qV8v3mNfBm7Jvkf33zqkSwDmXeDJx9wE';

describe('tokenledger\'s legacy scrypt strings', () => {
  it('still verify, at the cost they name, and ask for a rehash', async () => {
    expect(await verifyPassword('caf\u00e9-wonderland', WRITTEN_BEFORE)).toEqual({ ok: true, rehash: true });
    expect(await verifyPassword('s3cret', legacyOf('s3cret', 10))).toEqual({ ok: true, rehash: true });
    expect(await verifyPassword('s3cret', legacyOf('other', 10))).toEqual({ ok: false, rehash: false });
  });

  it('compare passwords after NFKC, as they were written', async () => {
    expect((await verifyPassword('cafe\u0301-wonderland', WRITTEN_BEFORE)).ok).toBe(true);
    expect((await verifyPassword('\ufb01sh', legacyOf('fish'))).ok).toBe(true);
    expect((await verifyPassword('cafe-wonderland', WRITTEN_BEFORE)).ok).toBe(false);
  });

  it('are still read in the base64url alphabet of the first hashes', async () => {
    // Salts and keys with + or / in base64 are the ones that differ; try until one does.
    let stored = legacyOf('s3cret', 10, 'base64url');
    while (!/[-_]/.test(stored)) stored = legacyOf('s3cret', 10, 'base64url');
    expect(await verifyPassword('s3cret', stored)).toEqual({ ok: true, rehash: true });
  });

  it('are named legacy_scrypt; malformed or memory-hungry ones are unsupported and never verify', async () => {
    expect(algorithmOf(WRITTEN_BEFORE)).toBe('legacy_scrypt');
    for (const bad of ['$scrypt$ln=15,r=8,p=1$$', '$scrypt$ln=15,r=8,p=1$abc$def', '$scrypt$ln=25,r=8,p=1$Zln8dyWNutMZgoOR2Eej6g$UQvuBIu+6LrPcRxxc6GAPV/TjqQ1sVvmWTZ8qvfXlfs']) {
      expect(algorithmOf(bad), bad).toBe('unsupported');
      await expect(verifyPassword('x', bad)).resolves.toEqual({ ok: false, rehash: false });
    }
  });
});

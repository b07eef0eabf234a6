import { describe, expect, it } from 'vitest';
import { algorithmOf, verifyPassword } from '../../../src/app/passwords/index.js';

// Written by Django 3.2.25's BCryptSHA256PasswordHasher and BCryptPasswordHasher (python3-bcrypt
// 3.2.2) on this machine, at 5 rounds to keep the test quick. Django's own tests have no fixed
// bcrypt vector. Password: "ﬁnch-lètmein", which NFKC would change.
const FINCH = '\ufb01nch-l\u00e8tmein';
const SHA256 = 'bcrypt_sha256$$2b$05$zpoC1JDiIyJVyB7863uII.EsMUA0EcyvymuuG/NTJKswgBU.ODih6';
const BCRYPT = 'bcrypt$$2b$05$T0uOj2wvHpAQrd.Tp4rPJOow64/vpOcf1TtbXG6.Z/VSsQraoTxIu';
const BCRYPT_2A = 'bcrypt$$2a$05$lQ7dqyweaUHEh/z3eBDzI.jwYMJVrYwzgDKAb4L5VvGGmJ5tJfKfu';
// Password "x" * 72 + "tail": bcrypt reads the first 72 bytes only.
const BCRYPT_LONG = 'bcrypt$$2b$05$b93p4Jv6AD5dg8Xfx4P.vu4vxeeFKeNjZUpM3W/h4vFgle8GOMxtG';

describe('Django bcrypt_sha256 and bcrypt', () => {
  it('verifies $2b$ and $2a$ strings, and asks for a rehash', async () => {
    for (const stored of [SHA256, BCRYPT, BCRYPT_2A]) {
      expect(await verifyPassword(FINCH, stored), stored).toEqual({ ok: true, rehash: true });
    }
  });

  it('refuses a wrong password, and the NFKC spelling of the right one', async () => {
    for (const stored of [SHA256, BCRYPT, BCRYPT_2A]) {
      expect(await verifyPassword('finch-letmein', stored), stored).toEqual({ ok: false, rehash: false });
      expect((await verifyPassword(FINCH.normalize('NFKC'), stored)).ok, stored).toBe(false);
    }
  });

  it('plain bcrypt reads 72 bytes, as Django\'s does; bcrypt_sha256 reads the whole password', async () => {
    expect((await verifyPassword(`${'x'.repeat(72)}tail`, BCRYPT_LONG)).ok).toBe(true);
    expect((await verifyPassword(`${'x'.repeat(72)}other`, BCRYPT_LONG)).ok).toBe(true);
    expect((await verifyPassword('x'.repeat(71), BCRYPT_LONG)).ok).toBe(false);
  });

  it('never matches a password with a NUL byte under plain bcrypt (Python\'s bcrypt refuses one)', async () => {
    expect((await verifyPassword(`${FINCH}\0`, BCRYPT)).ok).toBe(false);
  });

  it('names the algorithm, and calls malformed strings unsupported', () => {
    expect(algorithmOf(SHA256)).toBe('bcrypt_sha256');
    expect(algorithmOf(BCRYPT)).toBe('bcrypt');
    expect(algorithmOf(BCRYPT_2A)).toBe('bcrypt');
    for (const bad of [SHA256.slice(0, -1), BCRYPT.replace('$2b$', '$2x$'), BCRYPT.replace('$05$', '$99$'), SHA256.slice('bcrypt_sha256$'.length)]) {
      expect(algorithmOf(bad), bad).toBe('unsupported');
    }
  });
});

import { randomBytes, scryptSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/app/passwords.js';

// PHC string format: standard base64 without padding; 16 salt bytes → 22 chars, 32 key bytes → 43.
const PHC = /^\$scrypt\$ln=15,r=8,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

/** A PHC string made without the module under test, with cheap parameters. */
function phcOf(password: string, ln = 10, encoding: 'base64' | 'base64url' = 'base64'): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 2 ** ln, r: 8, p: 1 });
  const enc = (b: Buffer) => b.toString(encoding).replace(/=+$/, '');
  return `$scrypt$ln=${ln},r=8,p=1$${enc(salt)}$${enc(key)}`;
}

// Each scrypt at the production cost takes a noticeable time here: hash twice, share the results.
const PASSWORD = 'caf\u00e9-wonderland';
let hashes: string[];
beforeAll(async () => {
  hashes = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
});

describe('hashPassword', () => {
  it('writes a scrypt PHC string with the production cost, and a fresh salt each time', () => {
    const [a, b] = hashes as [string, string];
    expect(a).toMatch(PHC);
    expect(b).toMatch(PHC);
    expect(PHC.exec(a)![1]).not.toBe(PHC.exec(b)![1]);
    expect(a).not.toContain('wonderland');
  });

  it('is what scrypt(N=2^15, r=8, p=1) gives for that salt', () => {
    const [, salt, hash] = PHC.exec(hashes[0]!)!;
    const key = scryptSync(PASSWORD, Buffer.from(salt!, 'base64'), 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    expect(key.toString('base64').replace(/=+$/, '')).toBe(hash);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password (NFKC-normalised) and refuses a wrong one', async () => {
    expect(await verifyPassword(PASSWORD, hashes[0]!)).toBe(true);
    expect(await verifyPassword('cafe\u0301-wonderland', hashes[0]!)).toBe(true);
    expect(await verifyPassword('cafe-wonderland', hashes[1]!)).toBe(false);
  });

  it('honours the cost parameters written in the string', async () => {
    expect(await verifyPassword('s3cret', phcOf('s3cret', 10))).toBe(true);
    expect(await verifyPassword('s3cret', phcOf('other', 10))).toBe(false);
  });

  it('still reads hashes written in the base64url alphabet', async () => {
    // Salts and keys with + or / in base64 are the ones that differ; try until one does.
    let phc = phcOf('s3cret', 10, 'base64url');
    while (!/[-_]/.test(phc)) phc = phcOf('s3cret', 10, 'base64url');
    expect(await verifyPassword('s3cret', phc)).toBe(true);
  });

  it('unknown user or no password (null): false without throwing, even for the dummy\'s own password', async () => {
    await expect(verifyPassword('tokenledger-dummy-password', null)).resolves.toBe(false);
  });

  it('a malformed hash: false, without throwing', async () => {
    for (const bad of ['', 'plain', '$argon2id$v=19$m=65536,t=3,p=4$abc$def', '$scrypt$ln=15,r=8,p=1$$']) {
      await expect(verifyPassword('x', bad)).resolves.toBe(false);
    }
  });
});

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

// The PHC string format's B64: standard base64 (RFC 4648 §4) without padding.
const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/** A scrypt hash in PHC string format: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64, no padding). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N: 2 ** LOG_N, r: R, p: P });
  return `$scrypt$ln=${LOG_N},r=${R},p=${P}$${b64(salt)}$${b64(key)}`;
}

// Verified against when the user is unknown or has no password, so that every failed login
// costs one scrypt and timing does not tell which usernames exist. Made on first use: made at
// import, it kept every CLI process alive ~0.2 s for a scrypt it never needed.
let dummy: Promise<string> | undefined;
const dummyHash = () => (dummy ??= hashPassword('tokenledger-dummy-password'));

/** Constant-time check of a password against a PHC string; null means "no usable password". */
export async function verifyPassword(password: string, phc: string | null): Promise<boolean> {
  // Also accepts the base64url alphabet, which the first hashes were written in.
  const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([\w+/-]+)\$([\w+/-]+)$/.exec(phc ?? (await dummyHash()));
  if (!match) return false;
  const [, ln, r, p, salt, hash] = match;
  const expected = Buffer.from(hash!, 'base64');
  const actual = await derive(password, Buffer.from(salt!, 'base64'), { N: 2 ** Number(ln), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected) && phc !== null;
}

import { scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { MAX_MEMORY_BYTES, sameBytes, type Recognised } from './scheme.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

const KEY_BYTES = 32;

// `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`: the PHC string tokenledger wrote before argon2id. Salt
// and hash are base64 without padding; the first hashes were written in the base64url alphabet,
// which Buffer's base64 decoder reads as well.
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([\w+/-]+)\$([\w+/-]+)$/;

/** tokenledger's previous scheme: verified with the parameters the string names, then re-hashed. */
export function recogniseLegacyScrypt(stored: string): Recognised | null {
  const match = FORMAT.exec(stored);
  if (!match) return null;
  const [N, r, p] = [2 ** Number(match[1]), Number(match[2]), Number(match[3])];
  const salt = Buffer.from(match[4]!, 'base64');
  const expected = Buffer.from(match[5]!, 'base64');
  const memory = 128 * N * r;
  if (N < 2 || r < 1 || p < 1 || memory > MAX_MEMORY_BYTES / 2 || salt.length === 0 || expected.length !== KEY_BYTES) return null;
  return {
    algorithm: 'legacy_scrypt',
    current: false,
    async verify(password) {
      const key = await scryptAsync(password.normalize('NFKC'), salt, KEY_BYTES, { N, r, p, maxmem: MAX_MEMORY_BYTES });
      return sameBytes(key, expected);
    },
  };
}

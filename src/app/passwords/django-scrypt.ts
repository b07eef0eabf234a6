import { scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { MAX_MEMORY_BYTES, sameText, type Recognised } from './scheme.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: string, keylen: number, options: object) => Promise<Buffer>;

const KEY_BYTES = 64;
const FORMAT = /^scrypt\$(\d{1,10})\$([^$]+)\$(\d{1,3})\$(\d{1,3})\$[A-Za-z0-9+/]{86}==$/;

/**
 * Django's `scrypt$<N>$<salt>$<r>$<p>$<base64 of 64 bytes>` (Django 4.0+), verified as Django does:
 * derive with the stored N, r, p and text salt, encode again and compare the whole strings.
 */
export function recogniseDjangoScrypt(stored: string): Recognised | null {
  const match = FORMAT.exec(stored);
  if (!match) return null;
  const [N, salt, r, p] = [Number(match[1]), match[2]!, Number(match[3]), Number(match[4])];
  const powerOfTwo = N >= 2 && Number.isInteger(Math.log2(N));
  if (!powerOfTwo || r < 1 || p < 1 || 128 * N * r > MAX_MEMORY_BYTES / 2) return null;
  return {
    algorithm: 'scrypt',
    current: false,
    async verify(password) {
      const hash = await scryptAsync(password, salt, KEY_BYTES, { N, r, p, maxmem: MAX_MEMORY_BYTES });
      return sameText(stored, `scrypt$${N}$${salt}$${r}$${p}$${hash.toString('base64')}`);
    },
  };
}

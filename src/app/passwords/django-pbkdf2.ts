import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { sameText, type Recognised, type Scheme } from './scheme.js';

const pbkdf2Async = promisify(pbkdf2);

// Node's pbkdf2 takes iteration counts up to 2^31 - 1; Django writes its counts in decimal.
const MAX_ITERATIONS = 2 ** 31 - 1;

/**
 * Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (and `pbkdf2_sha1$…`), verified as
 * Django does: derive with the stored count and salt (the salt is text, used as its UTF-8 bytes),
 * encode again and compare the whole strings. Any iteration count; no Unicode normalisation.
 */
function pbkdf2Scheme(algorithm: 'pbkdf2_sha256' | 'pbkdf2_sha1', digest: 'sha256' | 'sha1', bytes: number): Scheme {
  const format = new RegExp(`^${algorithm}\\$(\\d+)\\$([^$]+)\\$([A-Za-z0-9+/]+={0,2})$`);
  const hashLength = Buffer.alloc(bytes).toString('base64').length;
  return (stored): Recognised | null => {
    const match = format.exec(stored);
    const iterations = Number(match?.[1]);
    if (!match || !(iterations >= 1 && iterations <= MAX_ITERATIONS) || match[3]!.length !== hashLength) return null;
    const salt = match[2]!;
    return {
      algorithm,
      current: false,
      async verify(password) {
        const hash = await pbkdf2Async(password, salt, iterations, bytes, digest);
        return sameText(stored, `${algorithm}$${iterations}$${salt}$${hash.toString('base64')}`);
      },
    };
  };
}

export const recognisePbkdf2Sha256 = pbkdf2Scheme('pbkdf2_sha256', 'sha256', 32);
export const recognisePbkdf2Sha1 = pbkdf2Scheme('pbkdf2_sha1', 'sha1', 20);

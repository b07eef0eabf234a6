import { createHash } from 'node:crypto';
import { sameText, type Recognised, type Scheme } from './scheme.js';

// bcryptjs is pure JavaScript: its rounds run on the event loop, in slices that let other work in
// between. Loaded on first use, as few stores hold bcrypt hashes.
let bcryptjs: Promise<typeof import('bcryptjs')> | undefined;
const bcrypt = () => (bcryptjs ??= import('bcryptjs'));

// `$2b$12$` + 22 characters of salt + 31 of hash, in bcrypt's base64 alphabet (py-bcrypt wrote `$2a$`).
const BCRYPT = '(\\$2[ab]\\$(?:0[4-9]|[12]\\d|3[01])\\$[./A-Za-z0-9]{53})';
const SALT_LENGTH = 29;

/**
 * Django's `bcrypt_sha256$<bcrypt string>` and `bcrypt$<bcrypt string>`, verified as Django does:
 * bcrypt the input with the stored salt and rounds, then compare the whole strings. bcrypt_sha256
 * feeds bcrypt the lowercase hex SHA-256 of the password, so long passwords are not cut at 72 bytes;
 * plain bcrypt feeds the password's UTF-8 bytes, which bcrypt cuts at 72.
 */
function bcryptScheme(algorithm: 'bcrypt_sha256' | 'bcrypt'): Scheme {
  const format = new RegExp(`^${algorithm}\\$${BCRYPT}$`);
  return (stored): Recognised | null => {
    const match = format.exec(stored);
    if (!match) return null;
    const salt = match[1]!.slice(0, SALT_LENGTH);
    return {
      algorithm,
      current: false,
      async verify(password) {
        // Python's bcrypt refuses a NUL byte, so Django never matches such a password.
        if (algorithm === 'bcrypt' && password.includes('\0')) return false;
        const input = algorithm === 'bcrypt_sha256' ? createHash('sha256').update(password).digest('hex') : password;
        return sameText(stored, `${algorithm}$${await (await bcrypt()).hash(input, salt)}`);
      },
    };
  };
}

export const recogniseBcryptSha256 = bcryptScheme('bcrypt_sha256');
export const recogniseBcrypt = bcryptScheme('bcrypt');

import { createHash } from 'node:crypto';
import { sameText, type DjangoAlgorithm, type Recognised } from './scheme.js';

// The single-digest formats of old Django databases. Each costs microseconds, so verifyPassword
// pads their failures to a verify at today's cost (see verify.ts).

const hex = (digest: 'md5' | 'sha1', text: string) => createHash(digest).update(text).digest('hex');

function recognised(algorithm: DjangoAlgorithm, stored: string, encode: (password: string) => string): Recognised {
  return { algorithm, current: false, verify: async (password) => sameText(stored, encode(password)) };
}

/** `md5$<salt>$<hex md5(salt + password)>` and `sha1$<salt>$<hex sha1(salt + password)>`. */
function salted(digest: 'md5' | 'sha1', hexLength: number) {
  const format = new RegExp(`^${digest}\\$([^$]+)\\$[0-9a-f]{${hexLength}}$`);
  return (stored: string): Recognised | null => {
    const salt = format.exec(stored)?.[1];
    return salt === undefined ? null : recognised(digest, stored, (password) => `${digest}$${salt}$${hex(digest, salt + password)}`);
  };
}

export const recogniseSaltedMd5 = salted('md5', 32);
export const recogniseSaltedSha1 = salted('sha1', 40);

/** A bare 32-hex md5 of the password, or the same after `md5$$` (Django checks these before salted md5). */
export function recogniseUnsaltedMd5(stored: string): Recognised | null {
  const match = /^(md5\$\$)?[0-9a-f]{32}$/.exec(stored);
  if (!match) return null;
  const prefix = match[1] ?? '';
  return recognised('unsalted_md5', stored, (password) => prefix + hex('md5', password));
}

/** `sha1$$<hex sha1(password)>` (Django checks these before salted sha1). */
export function recogniseUnsaltedSha1(stored: string): Recognised | null {
  if (!/^sha1\$\$[0-9a-f]{40}$/.test(stored)) return null;
  return recognised('unsalted_sha1', stored, (password) => `sha1$$${hex('sha1', password)}`);
}

import { recogniseArgon2id } from './argon2id.js';
import { recogniseDjangoArgon2 } from './django-argon2.js';
import { recogniseBcrypt, recogniseBcryptSha256 } from './django-bcrypt.js';
import { recogniseSaltedMd5, recogniseSaltedSha1, recogniseUnsaltedMd5, recogniseUnsaltedSha1 } from './django-digests.js';
import { recognisePbkdf2Sha1, recognisePbkdf2Sha256 } from './django-pbkdf2.js';
import { recogniseDjangoScrypt } from './django-scrypt.js';
import { recogniseLegacyScrypt } from './legacy-scrypt.js';
import type { Recognised, Scheme } from './scheme.js';

// Each scheme accepts only its own prefix, so the order matters once: the unsalted digests come
// before the salted ones whose prefixes they share, as in Django's identify_hasher.
const SCHEMES: readonly Scheme[] = [
  recogniseArgon2id,
  recogniseLegacyScrypt,
  recognisePbkdf2Sha256,
  recognisePbkdf2Sha1,
  recogniseDjangoArgon2,
  recogniseBcryptSha256,
  recogniseBcrypt,
  recogniseDjangoScrypt,
  recogniseUnsaltedMd5,
  recogniseUnsaltedSha1,
  recogniseSaltedMd5,
  recogniseSaltedSha1,
];

/**
 * What a stored string is: a scheme we verify, `unusable` (Django's `!…`, "no password"), or
 * `unsupported` (malformed, unknown, or a format we do not verify such as Django's `crypt$`).
 */
export function identify(stored: string): Recognised | 'unusable' | 'unsupported' {
  if (stored.startsWith('!')) return 'unusable';
  for (const scheme of SCHEMES) {
    const recognised = scheme(stored);
    if (recognised) return recognised;
  }
  return 'unsupported';
}

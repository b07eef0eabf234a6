import { ARGON2I, ARGON2ID, argon2, argon2Parameters } from './argon2id.js';
import type { Recognised } from './scheme.js';

/**
 * Django's `argon2` + a PHC string: `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` since
 * Django 3.2, `argon2$argon2i$v=19$…` before, `argon2$argon2i$m=…` (Argon2 v1.0, no `v=`) in the
 * oldest. Django hands the PHC string to argon2-cffi, which verifies with the variant, version and
 * parameters the string names; so does @node-rs/argon2, comparing in constant time. No normalisation.
 */
export function recogniseDjangoArgon2(stored: string): Recognised | null {
  if (!stored.startsWith('argon2$argon2')) return null;
  const phc = stored.slice('argon2'.length);
  const parameters = argon2Parameters(phc);
  if (parameters === null || (parameters.algorithm !== ARGON2ID && parameters.algorithm !== ARGON2I)) return null;
  return { algorithm: 'argon2', current: false, verify: (password) => argon2().verify(phc, password) };
}

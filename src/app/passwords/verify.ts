import { dummyVerify } from './argon2id.js';
import { identify } from './identify.js';
import { withinLength } from './limits.js';
import type { PasswordAlgorithm } from './scheme.js';

/** The answer of verifyPassword. `rehash`: the password was right and the stored string should be replaced by hashPassword's. */
export interface PasswordCheck {
  ok: boolean;
  rehash: boolean;
}

const FAILED: PasswordCheck = Object.freeze({ ok: false, rehash: false });

/**
 * Checks a password against a stored string of any scheme `algorithmOf` names, each verified as
 * the scheme's author does (NFKC for tokenledger's own schemes, none for Django's), comparing in
 * constant time. Never throws for a bad candidate or a bad stored string.
 *
 * Every failure costs at least one verify at today's cost, so its time does not say whether the
 * user exists: `null` (unknown user, no password), an unusable, unsupported or malformed string,
 * and a candidate over MAX_PASSWORD_BYTES each cost exactly one; a wrong password against an older
 * scheme costs that scheme's verify plus one (the single-digest formats would otherwise answer in
 * microseconds). A stored string dearer than today's cost still takes longer to fail until the
 * user's next good login replaces it.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<PasswordCheck> {
  const acceptable = withinLength(password);
  const scheme = stored !== null && acceptable ? identify(stored) : 'unusable';
  if (typeof scheme === 'string') {
    // An over-long candidate is not normalised or hashed: that work is what the limit avoids.
    await dummyVerify(acceptable ? password : '');
    return FAILED;
  }
  const ok = await scheme.verify(password).catch(() => false);
  if (!ok && !scheme.current) await dummyVerify(password);
  return ok ? { ok, rehash: !scheme.current } : FAILED;
}

/** Names a stored string's scheme without verifying anything (`null`, no password, is `unusable`). */
export function algorithmOf(stored: string | null): PasswordAlgorithm {
  if (stored === null) return 'unusable';
  const scheme = identify(stored);
  return typeof scheme === 'string' ? scheme : scheme.algorithm;
}

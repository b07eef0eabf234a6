import { timingSafeEqual } from 'node:crypto';

/** The formats Django writes, by the name Django's hasher gives each (`hasher.algorithm`). */
export type DjangoAlgorithm =
  | 'pbkdf2_sha256'
  | 'pbkdf2_sha1'
  | 'argon2'
  | 'bcrypt_sha256'
  | 'bcrypt'
  | 'scrypt'
  | 'md5'
  | 'sha1'
  | 'unsalted_md5'
  | 'unsalted_sha1';

/**
 * What a stored password string is: tokenledger's `argon2id` (what is written today) or
 * `legacy_scrypt` (what was written before), one of Django's formats, `unusable` (Django's `!…`:
 * no password), or `unsupported` (anything else, malformed strings and Django's `crypt` included).
 */
export type PasswordAlgorithm = 'argon2id' | 'legacy_scrypt' | DjangoAlgorithm | 'unusable' | 'unsupported';

/** A well-formed stored string of a scheme we can verify, bound to that string. */
export interface Recognised {
  readonly algorithm: Exclude<PasswordAlgorithm, 'unusable' | 'unsupported'>;
  /** True only for what hashPassword writes today: anything else is re-hashed after a good login. */
  readonly current: boolean;
  verify(password: string): Promise<boolean>;
}

/** Reads a stored string: its Recognised form, or null when the string is not this scheme's or is malformed. */
export type Scheme = (stored: string) => Recognised | null;

/** Byte comparison whose time depends on the lengths only, never on where the inputs differ. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Django's `constant_time_compare` of two encoded strings. */
export const sameText = (a: string, b: string): boolean => sameBytes(Buffer.from(a), Buffer.from(b));

/**
 * Scrypt and argon2 strings name the memory they need. Strings come from our own writes and from
 * imports; past this budget a string is treated as unusable rather than allocating what it asks.
 */
export const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

import { hashArgon2id } from './argon2id.js';
import { assertStorable } from './limits.js';

/**
 * Hashes a new password with tokenledger's current scheme: argon2id at OWASP's minimum cost, in
 * PHC string format, after NFKC normalisation. Refuses (DomainError `invalid_input`, field
 * `password`) a password over MAX_PASSWORD_BYTES before any work.
 */
export async function hashPassword(password: string): Promise<string> {
  assertStorable(password);
  return hashArgon2id(password);
}

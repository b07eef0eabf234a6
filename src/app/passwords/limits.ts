import { DomainError } from '../../domain/index.js';

/**
 * Longest password accepted, in UTF-8 bytes. Far above any passphrase, and small enough that the
 * work a candidate causes before hashing (measuring, NFKC) stays negligible on the event loop.
 */
export const MAX_PASSWORD_BYTES = 4096;

export const withinLength = (password: string): boolean => Buffer.byteLength(password, 'utf8') <= MAX_PASSWORD_BYTES;

/** Refuses a password too long to store, before anything is hashed. */
export function assertStorable(password: string): void {
  if (!withinLength(password)) {
    throw new DomainError('invalid_input', `password: Passwords are at most ${MAX_PASSWORD_BYTES} bytes (UTF-8).`, { field: 'password' });
  }
}

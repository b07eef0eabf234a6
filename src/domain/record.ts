import type { PresentUser, TokenState } from './user-decider.js';

/**
 * Everything a request check needs about one key, keyed by the key's sha256: what the
 * projection stores and what time travel rebuilds from the log.
 */
export interface TokenRecord {
  userId: string;
  username: string;
  active: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  tokenId: string;
  name: string;
  scopes: string[];
  /** Epoch milliseconds, or null for no expiry. */
  expiresAt: number | null;
  /** Set on a superseded secret: it works until then (epoch ms). */
  graceUntil: number | null;
}

/**
 * How a lookup by digest answers without a promise: `(undefined, record)` with the record or
 * null, or `(cause)` with no record when it failed. `record === undefined` is the failure, whatever the cause.
 */
export type LookupCallback = (cause: unknown, record?: TokenRecord | null) => void;

/**
 * The record of one secret of a user's token, as the log's state describes it: the token's own
 * secret (`graceUntil` null) or the secret a rotation superseded (until `graceUntil`, epoch ms).
 */
export function recordOf(user: PresentUser, token: TokenState, graceUntil: number | null): TokenRecord {
  return {
    userId: user.userId,
    username: user.username,
    active: user.active,
    isStaff: user.isStaff,
    isSuperuser: user.isSuperuser,
    tokenId: token.tokenId,
    name: token.name,
    scopes: token.scopes,
    expiresAt: token.expiresAt === null ? null : Date.parse(token.expiresAt),
    graceUntil,
  };
}

/** The closed set of answers to "may this key in?". */
export type Outcome = 'valid' | 'not_found' | 'expired' | 'inactive' | 'forbidden' | 'unavailable';

/**
 * The rules, in DRF's order: unknown or superseded → not_found, then expiry, then the user's
 * state, then scopes. A token without scopes may do anything, as a DRF token can.
 */
export function outcomeOf(record: TokenRecord | null, now: number, requiredScopes: readonly string[] = []): Outcome {
  if (record === null) return 'not_found';
  if (record.graceUntil !== null && now >= record.graceUntil) return 'not_found';
  if (record.expiresAt !== null && now >= record.expiresAt) return 'expired';
  if (!record.active) return 'inactive';
  if (record.scopes.length > 0 && !requiredScopes.every((s) => record.scopes.includes(s))) return 'forbidden';
  return 'valid';
}

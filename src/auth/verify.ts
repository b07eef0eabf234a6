import { outcomeOf, type Outcome, type TokenRecord } from '../domain/record.js';
import { digestKey, keyShape } from '../domain/token-format.js';
import { timeBound } from './time-bound.js';

/**
 * The only part of a projection the read path needs: one read by sha256(key), null when no record
 * has that digest. A ProjectionStore (Redis or memory) is one; a failure rejects.
 */
export interface KeyLookup {
  lookup(digest: string): Promise<TokenRecord | null>;
}

type Refused = Exclude<Outcome, 'valid' | 'unavailable'>;

/** The answer for one key: its record when it lets the request in, the cause when the projection failed. */
export type Verification =
  | { kind: 'valid'; record: TokenRecord }
  | { kind: Refused }
  | { kind: 'unavailable'; cause: unknown };

export interface VerifyOptions {
  projection: KeyLookup;
  /** Keys that start with `<tokenPrefix>_` must carry a valid checksum. */
  tokenPrefix: string;
  /** Epoch milliseconds. */
  clock: () => number;
  /** A lookup slower than this counts as the projection being unavailable. */
  lookupTimeoutMs: number;
}

// Shared answers: a refusal allocates nothing per request.
const REFUSED: Record<Refused, Verification> = {
  not_found: Object.freeze({ kind: 'not_found' }),
  expired: Object.freeze({ kind: 'expired' }),
  inactive: Object.freeze({ kind: 'inactive' }),
  forbidden: Object.freeze({ kind: 'forbidden' }),
};

/**
 * Checks one key: offline format check, then one projection lookup by sha256, then the
 * rules of `outcomeOf`. Returns a value for every case; it never throws, so a broken or
 * slow projection is an `unavailable` answer (fail closed), never an exception. A key refused
 * offline is answered at once, without a promise.
 */
export function keyVerifier(options: VerifyOptions): (key: string, scopes: readonly string[]) => Verification | Promise<Verification> {
  const { projection, tokenPrefix, clock, lookupTimeoutMs } = options;
  const verdict = (record: TokenRecord | null, scopes: readonly string[]): Verification => {
    const outcome = outcomeOf(record, clock(), scopes);
    if (outcome === 'valid') return { kind: outcome, record: record! };
    if (outcome === 'unavailable') return { kind: outcome, cause: null };
    return REFUSED[outcome];
  };
  const unavailable = (cause: unknown): Verification => ({ kind: 'unavailable', cause });
  const bounded = timeBound(lookupTimeoutMs);
  return (key, scopes) => {
    // A mistyped or made-up `tl_` key is refused here, without a round trip (SPEC §2).
    if (keyShape(key, tokenPrefix) === 'tl_bad_checksum') return REFUSED.not_found;
    const digest = digestKey(key);
    let pending: Promise<TokenRecord | null>;
    try {
      pending = bounded(projection.lookup(digest));
    } catch (cause) {
      return unavailable(cause);
    }
    return pending.then((record) => verdict(record, scopes), unavailable);
  };
}

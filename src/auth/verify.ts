import { outcomeOf, type Outcome, type TokenRecord } from '../domain/record.js';
import { digestKey, keyShape } from '../domain/token-format.js';
import type { ProjectionStore } from '../projection/port.js';

/** The only part of a projection the read path needs. */
export type KeyLookup = Pick<ProjectionStore, 'lookup'>;

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

/** Raised (never thrown to callers) when a lookup outlives its time budget. */
export class LookupTimeoutError extends Error {
  constructor(ms: number) {
    super(`projection lookup took longer than ${ms} ms`);
    this.name = 'LookupTimeoutError';
  }
}

/**
 * The lookup, or a LookupTimeoutError after `ms`. Hand-rolled rather than Promise.race: this
 * runs on every request, and race + finally cost twice the allocations. A lookup that fails
 * after we gave up on it is absorbed here, so it never becomes an unhandled rejection.
 */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new LookupTimeoutError(ms)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error) => (clearTimeout(timer), reject(error)),
    );
  });
}

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
  return (key, scopes) => {
    // A mistyped or made-up `tl_` key is refused here, without a round trip (SPEC §2).
    if (keyShape(key, tokenPrefix) === 'tl_bad_checksum') return REFUSED.not_found;
    const digest = digestKey(key);
    let pending: Promise<TokenRecord | null>;
    try {
      pending = withTimeout(projection.lookup(digest), lookupTimeoutMs);
    } catch (cause) {
      return unavailable(cause);
    }
    return pending.then((record) => verdict(record, scopes), unavailable);
  };
}

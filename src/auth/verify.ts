import { outcomeOf, type LookupCallback, type Outcome, type TokenRecord } from '../domain/record.js';
import { digestKey, keyShape } from '../domain/token-format.js';
import { timeBoundCallbacks } from './time-bound.js';

/**
 * The only part of a projection the read path needs: one read by sha256(key), null when no record
 * has that digest. A ProjectionStore (Redis or memory) is one; a failure rejects.
 */
export interface KeyLookup {
  lookup(digest: string): Promise<TokenRecord | null>;
  /**
   * Optional: the same read, answered through a callback instead of a promise (the built-in
   * projections have it; it spares a request the promises). It must answer exactly once.
   */
  lookupWith?(digest: string, callback: LookupCallback): void;
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

/** A verification that needed a lookup, handed over when it is done. */
export type VerificationCallback = (verification: Verification) => void;

/**
 * Checks one key: offline format check, then one projection lookup by sha256, then the
 * rules of `outcomeOf`. Answers every case; it never throws, so a broken or slow projection
 * is an `unavailable` answer (fail closed), never an exception.
 *
 * Callback form: a key answered without a lookup (a bad checksum, a lookup that throws at once)
 * is returned; otherwise it returns undefined and `callback` gets the verification, exactly once.
 * With a projection that has `lookupWith`, no promise is made for the request.
 */
export function keyVerifierWith(options: VerifyOptions): (key: string, scopes: readonly string[], callback: VerificationCallback) => Verification | undefined {
  const { projection, tokenPrefix, clock, lookupTimeoutMs } = options;
  const verdict = (record: TokenRecord | null, scopes: readonly string[]): Verification => {
    const outcome = outcomeOf(record, clock(), scopes);
    if (outcome === 'valid') return { kind: outcome, record: record! };
    if (outcome === 'unavailable') return { kind: outcome, cause: null };
    return REFUSED[outcome];
  };
  const unavailable = (cause: unknown): Verification => ({ kind: 'unavailable', cause });
  const bounded = timeBoundCallbacks(lookupTimeoutMs);
  const lookupWith = projection.lookupWith?.bind(projection);
  const lookup = (digest: string, answer: LookupCallback) =>
    projection.lookup(digest).then(
      (record) => answer(undefined, record),
      (cause: unknown) => answer(cause),
    );
  const read = lookupWith ?? lookup;
  return (key, scopes, callback) => {
    // A mistyped or made-up `tl_` key is refused here, without a round trip (SPEC §2).
    if (keyShape(key, tokenPrefix) === 'tl_bad_checksum') return REFUSED.not_found;
    const digest = digestKey(key);
    // Pending, answered (the callback was called), or the lookup threw before answering.
    let state = 'pending' as 'pending' | 'answered' | 'threw';
    const answer = bounded<TokenRecord | null>((cause, record) => {
      if (state === 'threw') return;
      state = 'answered';
      let verification: Verification;
      try {
        verification = record === undefined ? unavailable(cause) : verdict(record, scopes);
      } catch (error) {
        // A clock that throws: no verdict, so fail closed.
        verification = unavailable(error);
      }
      callback(verification);
    });
    try {
      read(digest, answer);
    } catch (cause) {
      // Already answered (a lookup that called back at once): what threw came after the answer,
      // from the lookup or from the callback, and is not a second answer.
      if (state === 'answered') throw cause;
      // Answered here, at once: the time bound lets go of it, and the callback is never called.
      state = 'threw';
      answer(cause);
      return unavailable(cause);
    }
    return undefined;
  };
}

/**
 * The promise form of `keyVerifierWith`: a key refused offline is answered at once, without a
 * promise; anything that needed a lookup is a promise that never rejects.
 */
export function keyVerifier(options: VerifyOptions): (key: string, scopes: readonly string[]) => Verification | Promise<Verification> {
  const verify = keyVerifierWith(options);
  return (key, scopes) => {
    let settle: VerificationCallback | null = null;
    let early: Verification | undefined;
    const now = verify(key, scopes, (verification) => (settle === null ? (early = verification) : settle(verification)));
    if (now !== undefined) return now;
    // A lookup that called back before returning (a synchronous `lookupWith`).
    if (early !== undefined) return early;
    return new Promise<Verification>((resolve) => (settle = resolve));
  };
}

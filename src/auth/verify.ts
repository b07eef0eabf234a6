import { outcomeOf, type Outcome, type TokenRecord } from '../domain/record.js';
import { digestKey, keyShape } from '../domain/token-format.js';

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

/** Raised (never thrown to callers) when a lookup outlives its time budget. */
export class LookupTimeoutError extends Error {
  constructor(ms: number) {
    super(`projection lookup took longer than ${ms} ms`);
    this.name = 'LookupTimeoutError';
  }
}

/** Lookups begun in one turn of the event loop: they share one timer. */
interface DeadlineGroup {
  waiting: { done: boolean; reject: (error: unknown) => void }[];
  settled: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Bounds lookups in time: each one resolves as its lookup does, or fails with a
 * LookupTimeoutError once `ms` have passed. The lookups begun in one turn of the event loop (a
 * burst of requests) share one timer, started with the first of them, instead of a timer each:
 * this runs on every request. A lookup that fails after we gave up on it is absorbed here, so it
 * never becomes an unhandled rejection.
 */
function timeBound(ms: number): <T>(promise: Promise<T>) => Promise<T> {
  let current: DeadlineGroup | null = null;
  const expire = (group: DeadlineGroup) => {
    if (current === group) current = null;
    for (const entry of group.waiting) if (!entry.done) entry.reject(new LookupTimeoutError(ms));
  };
  return <T>(promise: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let group = current;
      if (group === null) {
        const fresh: DeadlineGroup = { waiting: [], settled: 0, timer: null };
        fresh.timer = setTimeout(() => expire(fresh), ms);
        setImmediate(() => {
          if (current === fresh) current = null;
          if (fresh.settled === fresh.waiting.length) clearTimeout(fresh.timer!);
        });
        group = current = fresh;
      }
      const entry = { done: false, reject };
      group.waiting.push(entry);
      const settle = () => {
        entry.done = true;
        group.settled += 1;
        // Everyone answered, and no one else can join once the turn is over: the timer can go.
        if (group.settled === group.waiting.length && current !== group) clearTimeout(group.timer!);
      };
      promise.then(
        (value) => (settle(), resolve(value)),
        (error) => (settle(), reject(error)),
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

import type { TokenRecord } from '../domain/record.js';
import { authenticatorWith, promisedAuthenticator, type AuthResult } from './authenticate.js';
import { responseFor, type Refusal } from './responses.js';
import type { KeyLookup } from './verify.js';

/** The user a valid key belongs to (`ctx.state.user`, `req.user`, `request.user`). */
export interface AuthUser {
  id: string;
  username: string;
  isStaff: boolean;
  isSuperuser: boolean;
}

/** Which token got the request in (`ctx.state.auth`, `req.auth`, `request.auth`). */
export interface AuthInfo {
  tokenId: string;
  name: string;
  scopes: readonly string[];
  expiresAt: Date | null;
  /** The key is a secret a rotation superseded, working until its grace period ends. */
  inGrace: boolean;
}

/** The options of every framework adapter (Koa's `tokenAuth`, Express's, Fastify's): one list, one meaning. */
export interface TokenAuthOptions {
  /** Where keys are looked up: a ProjectionStore (Redis or memory), or anything with `lookup`. */
  projection: KeyLookup;
  /** The scheme word, compared case-insensitively. Default `Token`; `Bearer` for OAuth-style clients. */
  keyword?: string;
  /** Default true: a request without credentials gets 401. False lets anonymous requests through. */
  required?: boolean;
  /** Scopes a token must hold (a token without scopes holds all). Missing one: 403. */
  scopes?: readonly string[];
  /** Keys starting with `<tokenPrefix>_` are checksum-checked before any lookup. Default `tl`. */
  tokenPrefix?: string;
  /** Epoch milliseconds; default `Date.now`. */
  clock?: () => number;
  /** A lookup slower than this answers 503. Default 250 ms. */
  lookupTimeoutMs?: number;
  /** `Retry-After` of a 503, in seconds. Default 5. */
  retryAfterSeconds?: number;
  /** Called once per request with the result, for logs and metrics (an `unavailable` result carries its cause). */
  onResult?: (result: AuthResult) => void;
}

/** What a request ends in, framework-free: admitted (with a user and token, or anonymous), or a refusal to write. */
export type Decision = { admit: true; user: AuthUser; auth: AuthInfo } | { admit: true; user: undefined; auth: undefined } | { admit: false; refusal: Refusal };

/** The headers of a refusal (`Content-Type`, and `WWW-Authenticate` or `Retry-After`), to set before the body. */
export type RefusalHeaders = Readonly<Record<string, string>>;

/** A decision that needed a lookup: `(undefined, decision)`, or `(error)` when `onResult` threw. */
export type DecisionCallback = (error: unknown, decision?: Decision) => void;

export interface RequestAuthenticator {
  /** The configured keyword (for `WWW-Authenticate`). */
  keyword: string;
  /**
   * Authenticates one request by its raw `Authorization` value: a decision, at once or as a
   * promise (which rejects only with what a throwing `onResult` threw).
   */
  decide(header: string | undefined): Decision | Promise<Decision>;
  /**
   * The same, callback form: a decision that needs no lookup, or whose lookup answered before
   * returning, is returned at once (an `onResult` that throws, throws here); otherwise it returns
   * undefined and `callback` is called exactly once, later, with the decision or with what
   * `onResult` threw. On the built-in projections this path makes no promise.
   */
  decideWith(header: string | undefined, callback: DecisionCallback): Decision | undefined;
  /** The headers to send with a refusal (DRF's exact `application/json`, the challenge, `Retry-After`). */
  headersFor(refusal: Refusal): RefusalHeaders;
}

/**
 * What a throwing `onResult` threw, for the framework's error handling (`next(error)`,
 * `done(error)`): as it is, unless it is falsy, which Express and Fastify would take for "no error,
 * go on" and so let the request in without its authentication.
 */
export function failureOf(thrown: unknown): Error {
  return (thrown || new Error(`onResult threw ${String(thrown)}`, { cause: thrown })) as Error;
}

const ANONYMOUS: Decision = Object.freeze({ admit: true, user: undefined, auth: undefined });

function admitted(record: TokenRecord): Decision {
  return {
    admit: true,
    user: { id: record.userId, username: record.username, isStaff: record.isStaff, isSuperuser: record.isSuperuser },
    auth: {
      tokenId: record.tokenId,
      name: record.name,
      scopes: record.scopes,
      expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt),
      inGrace: record.graceUntil !== null,
    },
  };
}

/**
 * Everything an adapter does that is not its framework's: defaults, the result → decision
 * mapping, the refusal headers. Koa, Express and Fastify each only read the header and write
 * the decision, so all three answer byte for byte alike.
 */
export function requestAuthenticator(options: TokenAuthOptions): RequestAuthenticator {
  const keyword = options.keyword ?? 'Token';
  const required = options.required ?? true;
  const scopes = options.scopes ?? [];
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  const onResult = options.onResult;
  // One authenticator (one time bound) for both forms of `decide`.
  const authenticateWith = authenticatorWith({ ...options, keyword });
  const authenticate = promisedAuthenticator(authenticateWith);
  // Built once: a refusal allocates no headers per request.
  const challenge: RefusalHeaders = Object.freeze({ 'Content-Type': 'application/json', 'WWW-Authenticate': keyword });
  const retry: RefusalHeaders = Object.freeze({ 'Content-Type': 'application/json', 'Retry-After': retryAfter });
  const plain: RefusalHeaders = Object.freeze({ 'Content-Type': 'application/json' });

  const settle = (result: AuthResult): Decision => {
    onResult?.(result);
    const response = responseFor(result, required);
    if (response !== 'admit') return { admit: false, refusal: response };
    return result.kind === 'valid' ? admitted(result.record) : ANONYMOUS;
  };
  return {
    keyword,
    decide(header) {
      const result = authenticate(header, scopes);
      return result instanceof Promise ? result.then(settle) : settle(result);
    },
    decideWith(header, callback) {
      let waiting = false;
      let early: AuthResult | undefined;
      const result = authenticateWith(header, scopes, (late) => {
        // A lookup that answers before returning (a synchronous `lookupWith`): its decision is
        // returned at once below, so the adapter never runs the rest of the chain from inside
        // its own try (where a throwing handler would be answered a second time).
        if (!waiting) {
          early = late;
          return;
        }
        let decision: Decision;
        try {
          decision = settle(late);
        } catch (error) {
          callback(error);
          return;
        }
        callback(undefined, decision);
      });
      if (result !== undefined) return settle(result);
      if (early !== undefined) return settle(early);
      waiting = true;
      return undefined;
    },
    headersFor: (refusal) => (refusal.challenge ? challenge : refusal.retry ? retry : plain),
  };
}

import type { Middleware, ParameterizedContext } from 'koa';
import { authenticator, type AuthResult } from '../auth/authenticate.js';
import type { KeyLookup } from '../auth/verify.js';
import { responseFor, type Refusal } from './responses.js';

/** `ctx.state.user` after a valid key. */
export interface AuthUser {
  id: string;
  username: string;
  isStaff: boolean;
  isSuperuser: boolean;
}

/** `ctx.state.auth` after a valid key: which token got the request in. */
export interface AuthInfo {
  tokenId: string;
  name: string;
  scopes: readonly string[];
  expiresAt: Date | null;
}

/** What `tokenAuth` puts on `ctx.state`; both are absent for an anonymous request. */
export interface TokenAuthState {
  user?: AuthUser;
  auth?: AuthInfo;
}

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

function refuse(ctx: ParameterizedContext, refusal: Refusal, keyword: string, retryAfter: string): void {
  ctx.status = refusal.status;
  // Set before the body so Koa keeps DRF's exact `application/json` (no charset parameter).
  ctx.set('Content-Type', 'application/json');
  if (refusal.challenge) ctx.set('WWW-Authenticate', keyword);
  if (refusal.retry) ctx.set('Retry-After', retryAfter);
  ctx.body = refusal.body;
}

/**
 * Authenticates requests exactly as DRF's `TokenAuthentication` (SPEC §4): `Authorization:
 * Token <key>` checked against the projection in one lookup. On success `ctx.state.user` and
 * `ctx.state.auth` are set and the rest of the chain runs; otherwise the request ends here
 * with 401, 403 or 503 and a `{"detail": …}` body.
 */
export function tokenAuth(options: TokenAuthOptions): Middleware<TokenAuthState> {
  const keyword = options.keyword ?? 'Token';
  const required = options.required ?? true;
  const scopes = options.scopes ?? [];
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  const onResult = options.onResult;
  const authenticate = authenticator({ ...options, keyword });

  /** Refuses, or fills `ctx.state` and hands over to the rest of the chain. */
  const decide = (ctx: ParameterizedContext<TokenAuthState>, next: () => Promise<unknown>, result: AuthResult) => {
    onResult?.(result);
    const decision = responseFor(result, required);
    if (decision !== 'admit') return refuse(ctx, decision, keyword, retryAfter);
    if (result.kind === 'valid') {
      const { record } = result;
      ctx.state.user = { id: record.userId, username: record.username, isStaff: record.isStaff, isSuperuser: record.isSuperuser };
      ctx.state.auth = {
        tokenId: record.tokenId,
        name: record.name,
        scopes: record.scopes,
        expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt),
      };
    }
    // Deliberately outside any try/catch: a downstream error must never become a 401.
    return next();
  };

  // Not an async function: a refusal that needs no lookup (no header, a bad checksum) is answered
  // at once, and an admitted request goes on without a promise of this middleware's own.
  return function tokenAuthMiddleware(ctx, next) {
    const result = authenticate(ctx.req.headers.authorization, scopes);
    if (result instanceof Promise) return result.then((settled) => decide(ctx, next, settled));
    return decide(ctx, next, result);
  };
}

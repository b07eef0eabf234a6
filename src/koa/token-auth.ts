import type { Middleware, ParameterizedContext } from 'koa';
import { failureOf, requestAuthenticator, type AuthInfo, type AuthUser, type Decision, type TokenAuthOptions } from '../auth/adapter.js';

export type { AuthInfo, AuthUser, TokenAuthOptions };

/** What `tokenAuth` puts on `ctx.state`; both are absent for an anonymous request. */
export interface TokenAuthState {
  user?: AuthUser;
  auth?: AuthInfo;
}

/**
 * Authenticates requests exactly as DRF's `TokenAuthentication` (SPEC §4): `Authorization:
 * Token <key>` checked against the projection in one lookup. On success `ctx.state.user` and
 * `ctx.state.auth` are set and the rest of the chain runs; otherwise the request ends here
 * with 401, 403 or 503 and a `{"detail": …}` body. The decision is src/auth/adapter.ts's, shared
 * with the Express and Fastify adapters.
 */
export function tokenAuth(options: TokenAuthOptions): Middleware<TokenAuthState> {
  const auth = requestAuthenticator(options);

  /** Refuses, or fills `ctx.state` and hands over to the rest of the chain. */
  const apply = (ctx: ParameterizedContext<TokenAuthState>, next: () => Promise<unknown>, decision: Decision) => {
    if (!decision.admit) {
      const { refusal } = decision;
      ctx.status = refusal.status;
      // Set before the body so Koa keeps DRF's exact `application/json` (no charset parameter).
      ctx.set(auth.headersFor(refusal));
      ctx.body = refusal.body;
      return;
    }
    if (decision.user !== undefined) {
      ctx.state.user = decision.user;
      ctx.state.auth = decision.auth;
    }
    // Deliberately outside any try/catch: a downstream error must never become a 401.
    return next();
  };

  // Not an async function: a refusal that needs no lookup (no header, a bad checksum) is answered
  // at once, and an admitted request goes on without a promise of this middleware's own.
  // What a throwing `onResult` threw goes to Koa as an Error: Koa ignores a falsy one (`ctx.onerror`
  // returns on null/undefined), which would leave the request unanswered.
  const failed = (thrown: unknown): never => {
    throw failureOf(thrown);
  };
  return function tokenAuthMiddleware(ctx, next) {
    let decision: Decision | Promise<Decision>;
    try {
      decision = auth.decide(ctx.req.headers.authorization);
    } catch (thrown) {
      return failed(thrown);
    }
    if (decision instanceof Promise) return decision.then((settled) => apply(ctx, next, settled), failed);
    return apply(ctx, next, decision);
  };
}

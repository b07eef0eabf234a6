import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureOf, requestAuthenticator, type AuthInfo, type AuthUser, type Decision, type RefusalHeaders, type TokenAuthOptions } from '../auth/adapter.js';
import type { Refusal } from '../auth/responses.js';

export { MESSAGES } from '../domain/drf-messages.js';
export type { AuthResult } from '../auth/authenticate.js';
export type { KeyLookup } from '../auth/verify.js';
export type { TokenRecord } from '../domain/record.js';
export type { AuthInfo, AuthUser, TokenAuthOptions };

declare global {
  // Express's own request type is `Express.Request` (as passport extends it): `req.user` and `req.auth`
  // are typed in every handler without this file importing Express. `User` is merged, not replaced,
  // so an app that also uses passport keeps one `req.user` type.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User extends AuthUser {}
    interface Request {
      user?: User | undefined;
      auth?: AuthInfo | undefined;
    }
  }
}

/** A request as this middleware sees it: Node's, with what it sets after a valid key. */
export type TokenAuthRequest = IncomingMessage & { user?: AuthUser | undefined; auth?: AuthInfo | undefined };

/** Express's (and connect's) middleware shape, without depending on Express's types. */
export type TokenAuthHandler = (req: TokenAuthRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

function refuse(res: ServerResponse, refusal: Refusal, headers: RefusalHeaders): void {
  res.statusCode = refusal.status;
  // Node's own response methods, not `res.json`/`res.send`: those add a charset and an ETag, and
  // DRF answers with exactly `application/json`.
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Length', refusal.bytes.length);
  res.end(refusal.bytes);
}

/**
 * Express middleware (`app.use(tokenAuth({ projection }))`, or per route) that authenticates
 * exactly as DRF's `TokenAuthentication` and as `tokenledger/koa`: on success `req.user` and
 * `req.auth` are set and `next()` runs; otherwise the response is a 401, 403 or 503 with a
 * `{"detail": …}` body. It loads nothing of Express: any connect-style stack can use it.
 */
export function tokenAuth(options: TokenAuthOptions): TokenAuthHandler {
  const auth = requestAuthenticator(options);
  const apply = (req: TokenAuthRequest, res: ServerResponse, next: (error?: unknown) => void, decision: Decision) => {
    if (!decision.admit) return refuse(res, decision.refusal, auth.headersFor(decision.refusal));
    if (decision.user !== undefined) {
      req.user = decision.user;
      req.auth = decision.auth;
    }
    // Outside any try/catch of ours: a downstream error goes to Express's error handling, never a 401.
    next();
  };
  // Callback style, as the Fastify hook: with the built-in projections a request's authentication
  // makes no promise (`next` is called from the lookup's own turn).
  return function tokenAuthMiddleware(req, res, next) {
    let decision: Decision | undefined;
    try {
      decision = auth.decideWith(req.headers.authorization, (error, settled) => {
        // `error` is only ever what a throwing `onResult` threw: Express's error handler, never the route.
        if (settled === undefined) next(failureOf(error));
        else apply(req, res, next, settled);
      });
    } catch (error) {
      // An `onResult` that throws goes to Express's error handler, never on to the route.
      next(failureOf(error));
      return;
    }
    if (decision !== undefined) apply(req, res, next, decision);
  };
}

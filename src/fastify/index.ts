import type { FastifyPluginCallback, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { failureOf, requestAuthenticator, type AuthInfo, type AuthUser, type Decision, type TokenAuthOptions } from '../auth/adapter.js';

export { MESSAGES } from '../domain/drf-messages.js';
export type { AuthResult } from '../auth/authenticate.js';
export type { KeyLookup } from '../auth/verify.js';
export type { TokenRecord } from '../domain/record.js';
export type { AuthInfo, AuthUser, TokenAuthOptions };

declare module 'fastify' {
  interface FastifyRequest {
    /** The key's user; null for an anonymous request (`required: false`). */
    user: AuthUser | null;
    /** Which token got the request in; null for an anonymous request. */
    auth: AuthInfo | null;
  }
}

/**
 * The `onRequest` hook alone, for a route's own options (`{ onRequest: tokenAuthHook({ projection,
 * scopes: ['tokens:write'] }) }`). Register the `tokenAuth` plugin once (or decorate `user` and
 * `auth` yourself) so requests carry those properties from the start.
 */
export function tokenAuthHook(options: TokenAuthOptions): onRequestHookHandler {
  const auth = requestAuthenticator(options);
  const apply = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void, decision: Decision) => {
    if (!decision.admit) {
      const { refusal } = decision;
      // Bytes, not a string: Fastify sends a Buffer with the Content-Type as set, DRF's exact
      // `application/json`, where it would add `; charset=utf-8` to a string.
      reply.code(refusal.status).headers(auth.headersFor(refusal)).send(refusal.bytes);
      return;
    }
    if (decision.user !== undefined) {
      request.user = decision.user;
      request.auth = decision.auth;
    }
    done();
  };
  // Callback style, not an async hook: with the built-in projections a request's authentication
  // makes no promise (Fastify goes on when `done` is called, from the lookup's own turn). An
  // `onResult` that throws fails the request through Fastify's error handling, at once or later.
  return function tokenAuthOnRequest(request, reply, done) {
    let decision: Decision | undefined;
    try {
      decision = auth.decideWith(request.headers.authorization, (error, settled) => {
        if (settled === undefined) done(failureOf(error));
        else apply(request, reply, done, settled);
      });
    } catch (error) {
      done(failureOf(error));
      return;
    }
    if (decision !== undefined) apply(request, reply, done, decision);
  };
}

const plugin: FastifyPluginCallback<TokenAuthOptions> = (fastify, options, done) => {
  // Null first (Fastify 5 wants no reference types here), so every request has the same shape.
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', null);
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
  fastify.addHook('onRequest', tokenAuthHook(options));
  done();
};
// What `fastify-plugin` would do: the hook applies to the context the plugin is registered in,
// not to a context of its own. Register it inside `fastify.register(async (child) => …)` to cover
// only those routes (with their own `scopes` or `required`).
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'tokenledger';

/**
 * Fastify plugin: `fastify.register(tokenAuth, { projection })`. Adds an `onRequest` hook that
 * authenticates exactly as DRF's `TokenAuthentication` and as `tokenledger/koa`, and decorates
 * `request.user` / `request.auth`; refusals are 401, 403 or 503 with a `{"detail": …}` body.
 */
export const tokenAuth = plugin;
export default plugin;

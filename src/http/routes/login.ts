import type { Context } from 'koa';
import type { Ledger } from '../../app/ledger.js';
import type { LoginPolicy } from '../../app/login.js';
import { API_MESSAGES } from '../../domain/drf-messages.js';
import { ALL_MEDIA_TYPES, readBody } from '../body.js';
import { charFields } from '../drf-fields.js';
import { HttpError, detail } from '../errors.js';
import type { LoginOutcome, Metrics } from '../metrics.js';
import { actorOf, clientAddress, op, sendKey } from '../routing.js';
import { AuthToken, AuthTokenRequest, Detail, FieldErrors } from './schemas.js';
import type { LoginGate } from '../login-gate.js';

export interface LoginDeps {
  ledger: Ledger;
  policy: LoginPolicy;
  gate: LoginGate;
  metrics: Metrics;
}

const UNABLE = { non_field_errors: [API_MESSAGES.unableToLogIn] };

/** A refused login, with the outcome it counts as. */
class Refused extends HttpError {
  constructor(
    readonly outcome: LoginOutcome,
    error: HttpError,
  ) {
    super(error.status, error.body, error.headers);
  }
}

/** DRF's `Throttled`: whole seconds, rounded up, in the body and in `Retry-After` (DRF says "1 second."). */
function throttled(waitMs: number): Refused {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const unit = seconds === 1 ? 'second' : 'seconds';
  const message = `Request was throttled. Expected available in ${seconds} ${unit}.`;
  return new Refused('throttled', detail(429, message, { 'Retry-After': String(seconds) }));
}

/**
 * `POST /api-token-auth/`: DRF's obtain_auth_token on the wire (AuthTokenSerializer's fields and
 * messages), Knox's login token behind it. The handler parses and answers; the credential
 * check and the token are the `login` application service's.
 */
export function loginHandler(deps: LoginDeps) {
  const { ledger, policy, gate, metrics } = deps;
  const attempt = async (ctx: Context): Promise<LoginOutcome> => {
    const address = clientAddress(ctx);
    // An address over the limit is refused before its body is even read.
    const wait = await gate.wait(address);
    if (wait > 0) throw throttled(wait);
    const body = await readBody(ctx, ALL_MEDIA_TYPES);
    const { username, password } = charFields(body, { username: { trim: true }, password: { trim: false } });
    const result = await gate.login(ledger.deps, actorOf(ctx), address, { username, password }, policy);
    if (!result.ok) {
      if (result.reason === 'throttled') throw throttled(result.waitMs);
      // The right password, but this user logged in too often (TOKENLEDGER_LOGIN_RATE).
      if (result.reason === 'rate_limited') throw throttled(result.retryAfterMs);
      if (result.reason === 'busy') throw new Refused('busy', detail(503, API_MESSAGES.serviceUnavailable, { 'Retry-After': '1' }));
      throw new Refused('failure', new HttpError(400, UNABLE));
    }
    sendKey(ctx, 200, { token: result.issued.key, expiry: result.issued.token.expiresAt });
    return 'success';
  };
  const retry = { 'Retry-After': 'Seconds to wait before trying again.' };
  const doc = {
    // DRF's name for obtain_auth_token (action `create` + AuthTokenSerializer), its three parsers.
    operationId: 'createAuthToken',
    summary: 'Log in: a username and password for a new key',
    description:
      "DRF's `obtain_auth_token` (AuthTokenSerializer's fields and messages); each login issues a new token, as Knox's does. The real status is 200 (DRF's own schema says 201).",
    tags: ['api-token-auth'],
    body: { schema: AuthTokenRequest, mediaTypes: ['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json'] },
    responses: {
      200: { description: 'The new key', schema: AuthToken },
      400: { description: 'Wrong credentials (`non_field_errors`), a missing or blank field, or a body that does not parse', schema: FieldErrors.or(Detail) },
      429: { description: 'Too many attempts from this address or for this username', schema: Detail, headers: retry },
      503: { description: 'Too many password checks in flight, or a store that is down', schema: Detail, headers: retry },
    },
  };
  return op(doc, async (ctx: Context): Promise<void> => {
    try {
      metrics.countLogin(await attempt(ctx));
    } catch (error) {
      const outcome = error instanceof Refused ? error.outcome : error instanceof HttpError ? 'invalid' : 'error';
      metrics.countLogin(outcome);
      throw error;
    }
  });
}

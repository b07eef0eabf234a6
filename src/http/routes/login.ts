import type { Context } from 'koa';
import type { Ledger } from '../../app/ledger.js';
import { login, type LoginPolicy } from '../../app/login.js';
import { API_MESSAGES } from '../../domain/drf-messages.js';
import { ALL_MEDIA_TYPES, readBody } from '../body.js';
import { charFields } from '../drf-fields.js';
import { HttpError, detail } from '../errors.js';
import type { LoginOutcome, Metrics } from '../metrics.js';
import { actorOf, clientAddress, send } from '../routing.js';
import type { LoginThrottle } from '../throttle.js';

export interface LoginDeps {
  ledger: Ledger;
  policy: LoginPolicy;
  throttle: LoginThrottle | null;
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
  const { ledger, policy, throttle, metrics } = deps;
  const attempt = async (ctx: Context): Promise<LoginOutcome> => {
    const address = clientAddress(ctx);
    // An address over the limit is refused before its body is even read.
    if (throttle) {
      const wait = await throttle.wait(address);
      if (wait > 0) throw throttled(wait);
    }
    const body = await readBody(ctx, ALL_MEDIA_TYPES);
    const { username, password } = charFields(body, { username: { trim: true }, password: { trim: false } });
    if (throttle) {
      const wait = await throttle.wait(address, username);
      if (wait > 0) throw throttled(wait);
    }
    const result = await login(ledger.deps, actorOf(ctx), { username, password }, policy);
    if (!result.ok) {
      await throttle?.fail(address, username);
      throw new Refused('failure', new HttpError(400, UNABLE));
    }
    send(ctx, 200, { token: result.issued.key, expiry: result.issued.token.expiresAt });
    return 'success';
  };
  return async (ctx: Context): Promise<void> => {
    try {
      metrics.countLogin(await attempt(ctx));
    } catch (error) {
      const outcome = error instanceof Refused ? error.outcome : error instanceof HttpError ? 'invalid' : 'error';
      metrics.countLogin(outcome);
      throw error;
    }
  };
}

import type { Context } from 'koa';
import { ConcurrencyError, DomainError, ProjectionUnavailableError, StoreUnavailableError } from '../app/errors.js';
import { API_MESSAGES } from '../domain/drf-messages.js';

/** A response decided by a handler: status, JSON body and headers, thrown to the one mapper. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/** DRF's `{"detail": …}` error. */
export function detail(status: number, message: string, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { detail: message }, headers);
}

// The application names fields as the CLI spells its flags; the JSON API spells them its own way.
const API_FIELDS: Record<string, string> = { 'expires-in': 'expiresIn', scope: 'scopes' };

function fieldOf(error: DomainError): string {
  return typeof error.details.field === 'string' ? error.details.field : 'non_field_errors';
}

/** DRF's `Throttled`: whole seconds, rounded up, in the body and in `Retry-After` (DRF says "1 second."). */
export function throttledError(waitMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const unit = seconds === 1 ? 'second' : 'seconds';
  return detail(429, `Request was throttled. Expected available in ${seconds} ${unit}.`, { 'Retry-After': String(seconds) });
}

/** A domain refusal as DRF would phrase it: field errors for bad input, 404 for what is missing. */
function fromDomain(error: DomainError): HttpError {
  switch (error.code) {
    case 'invalid_input': {
      const field = fieldOf(error);
      // validation.ts prefixes messages with the field name for the CLI; a field-keyed body does not need it.
      return new HttpError(400, { [API_FIELDS[field] ?? field]: [error.message.replace(`${field}: `, '')] });
    }
    case 'user_exists':
      return new HttpError(400, { username: ['A user with that username already exists.'] });
    case 'token_exists':
      return new HttpError(400, { name: ['This user already has a token with this name; send "reset": true to replace it.'] });
    case 'user_not_found':
    case 'token_not_found':
      return detail(404, API_MESSAGES.notFound);
    case 'login_rate':
      return throttledError(Number(error.details.retryAfterMs) || 1000);
    case 'permission_denied':
      // DRF's PermissionDenied with a specific detail: the rule, never what the target holds.
      return detail(403, error.message);
  }
}

/**
 * Turns any error into a response: what the handler meant (HttpError), a domain refusal, a backend
 * that is down (503), or a bug (500). Only HttpError and DomainError messages reach the client;
 * everything else is logged and answered with a fixed sentence.
 */
export function toHttp(error: unknown): { response: HttpError; unexpected: boolean } {
  if (error instanceof HttpError) return { response: error, unexpected: false };
  if (error instanceof DomainError) return { response: fromDomain(error), unexpected: false };
  if (error instanceof ConcurrencyError) return { response: detail(409, 'Conflicting change, try again.'), unexpected: false };
  if (error instanceof StoreUnavailableError || error instanceof ProjectionUnavailableError) {
    return { response: detail(503, API_MESSAGES.serviceUnavailable, { 'Retry-After': '1' }), unexpected: true };
  }
  const status = (error as { status?: unknown; expose?: unknown }).status;
  // Koa's own client errors (ctx.throw(4xx), a request body too large) carry a safe status.
  if (typeof status === 'number' && status >= 400 && status < 500 && (error as { expose?: unknown }).expose === true) {
    return { response: detail(status, (error as Error).message), unexpected: false };
  }
  return { response: detail(500, API_MESSAGES.serverError), unexpected: true };
}

/** Answers the request with the response `error` maps to (see toHttp); a bug is kept in `ctx.state.error` for the log. */
export function answerError(ctx: Context, error: unknown): void {
  const { response, unexpected } = toHttp(error);
  if (unexpected) ctx.state.error = error;
  ctx.status = response.status;
  ctx.set(response.headers);
  // DRF's exact `application/json`, set before the body so Koa adds no charset.
  ctx.set('Content-Type', 'application/json');
  ctx.body = response.body;
}

/** A route nobody answered: DRF's 404 body. */
export function answerUnrouted(ctx: Context): void {
  if (ctx.status === 404 && ctx.body === undefined) answerError(ctx, detail(404, API_MESSAGES.notFound));
}

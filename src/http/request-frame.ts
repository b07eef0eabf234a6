import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { accessLine } from './access-log.js';
import { answerError, answerUnrouted } from './errors.js';
import type { Metrics } from './metrics.js';
import type { OutageLog } from './outage-log.js';
import { ProjectionBehindError, ProjectionUnavailableError, StoreUnavailableError } from '../app/errors.js';
import { clientAddress } from './routing.js';

/** A backend that cannot be reached (not a write that is done while its projection is late, which is logged every time). */
function isOutage(error: unknown): boolean {
  return (error instanceof ProjectionUnavailableError && !(error instanceof ProjectionBehindError)) || error instanceof StoreUnavailableError;
}

/**
 * The frame of every request, outermost: the request id (`X-Request-Id`, and the correlation id of
 * every event the request appends; ours, never the client's), the one error-to-HTTP mapping (so
 * every route answers the same way), then one log line (method, path without its query, status,
 * time, client, user) and the request counter. One middleware rather than two: on the path every
 * request takes, each layer costs a promise.
 */
export function requestFrame(logger: Logger, metrics: Metrics, outage?: OutageLog) {
  const log = accessLine(logger);
  return (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    const id = randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    // No response of ours is to be sniffed into another type (review L6).
    ctx.set('X-Content-Type-Options', 'nosniff');
    // Now, while the socket is surely there: a request cut short loses it (review L2).
    const ip = clientAddress(ctx);
    const finish = () => {
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      const user = (ctx.state.user as { username?: string } | undefined)?.username;
      // The count comes first: a line that cannot be written must not lose it.
      metrics.countRequest(ctx.method, ctx.status);
      try {
        log({ id, method: ctx.method, path: ctx.path, status: ctx.status, ms, ip, user });
        const error = ctx.state.error as unknown;
        // A backend that is down is an outage, logged when it starts and ends; any other failure is logged each time.
        if (error !== undefined && outage && isOutage(error)) outage.failed('request path', error);
        else if (error !== undefined) logger.error({ id, err: error }, 'request failed');
        else if (outage?.anyDown && ctx.status < 500) outage.recovered('request path');
      } catch {
        // A logger that throws does not turn an answered request into Koa's plain-text 500.
      }
    };
    let pending: Promise<unknown>;
    try {
      pending = next();
    } catch (error) {
      answerError(ctx, error);
      finish();
      return Promise.resolve();
    }
    return pending.then(
      () => {
        answerUnrouted(ctx);
        finish();
      },
      (error: unknown) => {
        answerError(ctx, error);
        finish();
      },
    );
  };
}

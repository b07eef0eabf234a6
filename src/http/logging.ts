import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Metrics } from './metrics.js';

/**
 * Paths pino blanks out in a log object. The request logger never puts headers, bodies or query
 * strings in a line; this is the second lock on the door, for the shapes a log call could take.
 * Static paths only: wildcards cost pino's redaction about as much as the rest of a line.
 */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'key',
  'token',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'body.password',
  'body.key',
  'body.token',
  'err.password',
  'err.key',
];

/** The service's structured logger: JSON lines (pino's epoch-ms `time`), secrets redacted. */
export function createLogger(destination?: DestinationStream, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'tokenledger' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? bufferedStdout(),
  );
}

/**
 * stdout, written in blocks of 4 KB rather than one write per line (one write per request costs
 * about as much as the rest of the request's logging); a timer flushes a partial block twice a
 * second, so a quiet server's lines still appear at once. `logger.flush()` empties it at shutdown.
 */
function bufferedStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => {
    try {
      stream.flush();
    } catch {
      // not open yet, or already closed: nothing to flush
    }
  }, 500).unref();
  return stream;
}

/**
 * One log line per request (method, path without its query, status, time, client, user) and the
 * request counter. The request id is ours, never the client's, and is the correlation id of every
 * event the request appends.
 */
export function requestLog(logger: Logger, metrics: Metrics) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    const id = randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      const user = (ctx.state.user as { username?: string } | undefined)?.username;
      logger.info({ id, method: ctx.method, path: ctx.path, status: ctx.status, ms, ip: ctx.ip, user }, 'request');
      if (ctx.state.error !== undefined) logger.error({ id, err: ctx.state.error }, 'request failed');
      metrics.countRequest(ctx.method, ctx.status);
    }
  };
}

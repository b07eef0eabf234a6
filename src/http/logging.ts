import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { Context, Next } from 'koa';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { answerError, answerUnrouted } from './errors.js';
import { clientAddress } from './routing.js';

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
 * stdout, written once per turn of the event loop: the lines of one turn (a request's, or those
 * of every request answered together under load) go out in one write. Measured: sonic-boom's
 * asynchronous mode (pino.destination with minLength) spends about 2 µs a line re-measuring its
 * buffer, more than the rest of the request's logging; this costs about 0.35 µs.
 */
function bufferedStdout(): DestinationStream {
  return new TurnBufferedDestination(1);
}

/** Bytes kept while the destination cannot take them (a full non-blocking pipe); beyond, lines are dropped and counted. */
const MAX_PENDING = 16 * 1024 * 1024;

/**
 * A pino destination that gathers the lines written during one turn of the event loop and writes
 * them with one synchronous write at its end (pino's own default destination writes every line
 * synchronously). Nothing is reordered or half-written; a full non-blocking pipe (EAGAIN) keeps
 * the lines and retries shortly.
 */
export class TurnBufferedDestination implements DestinationStream {
  private lines: string[] = [];
  private bytes = 0;
  private scheduled = false;
  private dropped = 0;
  private retry: NodeJS.Timeout | null = null;
  /** Bytes a full pipe did not take yet: they go out before any newer line. */
  private carry: Buffer | null = null;

  constructor(private readonly fd: number) {}

  write(line: string): void {
    if (this.bytes > MAX_PENDING) {
      this.dropped += 1;
      return;
    }
    this.lines.push(line);
    this.bytes += line.length;
    if (!this.scheduled && this.retry === null) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Writes what is buffered now (pino's `logger.flush()`, and at shutdown). */
  flush(callback?: (error?: Error) => void): void {
    this.drain();
    callback?.();
  }

  flushSync(): void {
    this.drain();
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.retry !== null) {
      clearTimeout(this.retry);
      this.retry = null;
    }
    if (this.lines.length === 0 && this.carry === null) return;
    if (this.dropped > 0) {
      this.lines.push(`${JSON.stringify({ level: 40, time: Date.now(), msg: 'log lines dropped: stdout did not take them', dropped: this.dropped })}\n`);
      this.dropped = 0;
    }
    const text = Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join(''));
    let data = this.carry === null ? text : Buffer.concat([this.carry, text]);
    this.carry = null;
    this.lines = [];
    this.bytes = 0;
    while (data.length > 0) {
      let written: number;
      try {
        written = writeSync(this.fd, data);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          // Keep the rest (bytes: it may end mid-character) in front of newer lines; try again soon.
          this.carry = data;
          this.bytes += data.length;
          this.retry = setTimeout(this.drain, 10).unref();
          return;
        }
        // stdout is gone (EPIPE, closed): there is nowhere to report it; the lines are lost.
        return;
      }
      data = data.subarray(written);
    }
  };
}

/**
 * Writes the per-request line, in the shape pino gives every line (level, time, the logger's
 * bindings, the fields, msg), straight to the logger's own destination, after pino's level check.
 * Measured on `npm run bench:http`: through `logger.info` the line cost about 2.7 µs of CPU per
 * request, a quarter of what the service adds to bare Koa; one JSON.stringify costs about 0.4 µs.
 * Every other line goes through pino (and its redaction); this one only holds the fields below,
 * none of which can be a secret.
 */
export function accessLine(logger: Logger): (fields: AccessFields) => void {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]!;
  const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
  const head = `{"level":${logger.levels.values.info}`;
  const tail = bindings === '' ? ',' : `,${bindings},`;
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    stream.write(`${head},"time":${Date.now()}${tail}${JSON.stringify(fields).slice(1, -1)},"msg":"request"}\n`);
  };
}

export interface AccessFields {
  id: string;
  method: string;
  /** Without the query string, which may carry anything. */
  path: string;
  status: number;
  ms: number;
  ip: string;
  user: string | undefined;
}

/**
 * The frame of every request, outermost: the request id (`X-Request-Id`, and the correlation id of
 * every event the request appends; ours, never the client's), the one error-to-HTTP mapping (so
 * every route answers the same way), then one log line (method, path without its query, status,
 * time, client, user) and the request counter. One middleware rather than two: on the path every
 * request takes, each layer costs a promise.
 */
export function requestFrame(logger: Logger, metrics: Metrics) {
  const log = accessLine(logger);
  return (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    const id = randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    const finish = () => {
      const ms = Math.round((performance.now() - started) * 1000) / 1000;
      const user = (ctx.state.user as { username?: string } | undefined)?.username;
      log({ id, method: ctx.method, path: ctx.path, status: ctx.status, ms, ip: clientAddress(ctx), user });
      if (ctx.state.error !== undefined) logger.error({ id, err: ctx.state.error }, 'request failed');
      metrics.countRequest(ctx.method, ctx.status);
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

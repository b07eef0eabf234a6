import { pino, type DestinationStream, type Logger } from 'pino';
import { TurnBufferedDestination } from './log-destination.js';

/**
 * Paths pino blanks out in a log object. The request logger never puts headers, bodies or query
 * strings in a line; this is the second lock on the door, for the shapes a log call could take.
 * Static paths only: wildcards make pino's redaction cost as much as the rest of a line.
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
  // What the app layer's errors carry (kept off their enumerable fields, and off the allow-list below).
  'err.executed',
  'err.issued',
  'err.state',
  'err.events',
  'executed',
  'issued',
  'state',
  'events',
  'passwordHash',
  'digest',
  'digests',
];

/**
 * What a logged error may show: its type, message, string or numeric code, stack, and the type
 * and message of its cause. An allow-list rather than pino's default (which copies every
 * enumerable field): an error that carries state (a user with its password hash and digests,
 * a new key) cannot put it in a log line by accident. A thrown value that is not an Error is
 * described by `thrownValue`; an ErrorSummary is shown as it is.
 */
export function safeError(value: unknown): Record<string, unknown> {
  if (value instanceof ErrorSummary) return { ...value };
  if (!(value instanceof Error)) return thrownValue(value);
  const shown: Record<string, unknown> = { type: value.name || value.constructor.name, message: value.message };
  const code = codeOf(value);
  if (code !== undefined) shown.code = code;
  if (value.stack !== undefined) shown.stack = value.stack;
  const cause = (value as { cause?: unknown }).cause;
  if (cause instanceof Error) shown.cause = { type: cause.name, message: cause.message };
  else if (cause !== undefined) shown.cause = thrownValue(cause);
  return shown;
}

/**
 * An error reduced to one short line's worth: its type, the first line of its message, its code.
 * For logs that say a source is failing without a stack (OutageLog); `safeError` passes it on.
 */
export class ErrorSummary {
  readonly type: string;
  readonly message: string;
  readonly code?: string | number;

  constructor(value: unknown) {
    const shown = safeError(value);
    this.type = String(shown.type);
    this.message = String(shown.message ?? '').split('\n', 1)[0]!;
    if (shown.code !== undefined) this.code = shown.code as string | number;
  }
}

const MAX_SHOWN = 200;

/**
 * A thrown value that is not an Error, described without copying its fields: its type (and class
 * for an object), a primitive's value (a string's first 200 characters), an object's own `name`,
 * `message` and `code` when they are strings (or a numeric code), and the names of its other
 * fields, never their values.
 */
function thrownValue(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return { type: String(value), message: `(${String(value)} thrown, not an Error)` };
  if (typeof value !== 'object' && typeof value !== 'function') {
    return { type: typeof value, message: `(${typeof value} thrown, not an Error) ${String(value).slice(0, MAX_SHOWN)}` };
  }
  const fields = value as Record<string, unknown>;
  const shown: Record<string, unknown> = { type: typeof value, class: Object.getPrototypeOf(value)?.constructor?.name ?? 'null prototype' };
  const name = typeof fields.name === 'string' ? `${fields.name.slice(0, MAX_SHOWN)}: ` : '';
  const message = typeof fields.message === 'string' ? fields.message.slice(0, MAX_SHOWN) : '';
  shown.message = `(${String(shown.class)} thrown, not an Error) ${name}${message}`.trimEnd();
  const code = codeOf(value);
  if (code !== undefined) shown.code = code;
  const others = Object.keys(value).filter((k) => k !== 'name' && k !== 'message' && k !== 'code');
  if (others.length > 0) shown.fields = others.slice(0, 20);
  return shown;
}

function codeOf(value: object): string | number | undefined {
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' ? code.slice(0, MAX_SHOWN) : typeof code === 'number' ? code : undefined;
}

/**
 * The service's structured logger: JSON lines (pino's epoch-ms `time`), secrets redacted, on
 * stdout written once per turn of the event loop (see TurnBufferedDestination) unless a
 * destination is given.
 */
export function createLogger(destination?: DestinationStream, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'tokenledger' },
      serializers: { err: safeError },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? new TurnBufferedDestination(1),
  );
}

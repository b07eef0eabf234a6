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
 * a new key) cannot put it in a log line by accident.
 */
export function safeError(value: unknown): Record<string, unknown> {
  if (!(value instanceof Error)) return { type: typeof value, message: '(not an Error)' };
  const shown: Record<string, unknown> = { type: value.name || value.constructor.name, message: value.message };
  const code = (value as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') shown.code = code;
  if (value.stack !== undefined) shown.stack = value.stack;
  const cause = (value as { cause?: unknown }).cause;
  if (cause instanceof Error) shown.cause = { type: cause.name, message: cause.message };
  return shown;
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

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
];

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
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? new TurnBufferedDestination(1),
  );
}

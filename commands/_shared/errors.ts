import { CLIError } from '@oclif/core/errors';
import { ConfigError, DomainError, KeyIssuedBehindError, ProjectionBehindError, ProjectionUnavailableError, StoreUnavailableError } from '../../src/app/errors.js';

/** SPEC §3 exit codes. */
export const EXIT = { done: 0, refused: 1, usage: 2, unavailable: 3 } as const;

/**
 * Ends a command with a given exit code after it has said what it had to say: `token verify`
 * answers "invalid" with exit 1 and, under `--json`, the verdict itself as the document.
 */
export class ExitStatus extends Error {
  constructor(
    readonly exitCode: number,
    readonly payload: unknown,
    message = '',
  ) {
    super(message);
    this.name = 'ExitStatus';
  }
}

/** A usage error raised by our own input handling (blank password, bad --at): exit 2. */
export function usageError(message: string): CLIError {
  return new CLIError(message, { exit: EXIT.usage });
}

/** How a failure ends the process: exit code, one line for stderr, and the `--json` document. */
export interface Failure {
  exitCode: number;
  message: string;
  json: unknown;
}

function failure(exitCode: number, code: string, message: string, details: Record<string, unknown> = {}): Failure {
  return { exitCode, message, json: { error: { code, message, exitCode, ...details } } };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

/**
 * The one error mapper of the CLI. Rules refused → 1, usage and settings → 2, a backend down → 3;
 * anything unexpected becomes one line and exit 1, never a stack trace.
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof ExitStatus) return { exitCode: error.exitCode, message: error.message, json: error.payload };
  if (error instanceof DomainError) {
    // invalid_input is a malformed argument (bad username, bad duration): a usage error, not a rule.
    const exitCode = error.code === 'invalid_input' ? EXIT.usage : EXIT.refused;
    return failure(exitCode, error.code, error.message, error.details);
  }
  if (!(error instanceof Error)) return failure(EXIT.refused, 'error', `Error: ${String(error)}`);
  if (error instanceof ConfigError) return failure(EXIT.usage, 'config', firstLine(error.message));
  if (error instanceof ProjectionBehindError) {
    // The write is done (it is in the log); only its visibility to servers is late.
    const issued = error instanceof KeyIssuedBehindError ? error.issued : null;
    const done = issued ? 'The token was issued (its key is printed above)' : 'The change is recorded in the log';
    const message = `${done}, but the projection does not reflect it yet: ${firstLine(error.message)}`;
    return failure(EXIT.unavailable, 'projection_behind', message, issued ? { key: issued.key } : {});
  }
  if (error instanceof StoreUnavailableError || error instanceof ProjectionUnavailableError) {
    return failure(EXIT.unavailable, 'unavailable', firstLine(error.message));
  }
  if (error.name === 'ExitPromptError') return failure(EXIT.refused, 'cancelled', 'Operation cancelled.');
  const oclifExit = (error as { oclif?: { exit?: number } }).oclif?.exit;
  if (oclifExit !== undefined) {
    // oclif's own parse errors (missing argument, unknown flag, bad option) and our usageError.
    return failure(oclifExit, 'usage', error.message.trim());
  }
  return failure(EXIT.refused, 'error', `Error: ${firstLine(error.message) || error.name}`);
}

/** Why a command was refused. Each code maps to one exit code and one HTTP status at the boundary. */
export type DomainErrorCode =
  | 'user_not_found'
  | 'user_exists'
  | 'token_exists'
  | 'token_not_found'
  | 'invalid_input'
  /** Too many successful logins of one user within the login rate's window (`details.retryAfterMs`). */
  | 'login_rate'
  /** The caller may not do this (see src/app/privileges.ts). */
  | 'permission_denied';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * A setting that cannot work (a malformed value, a Redis Cluster prefix without a hash tag, an
 * address the server cannot listen on): the message names the setting and never echoes a secret.
 * Here rather than in config.ts so that every room that checks a setting can say so, and the
 * CLI's error path knows it without loading config.
 */
export class ConfigError extends Error {
  readonly code = 'config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

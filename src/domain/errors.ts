/** Why a command was refused. Each code maps to one exit code and one HTTP status at the boundary. */
export type DomainErrorCode =
  | 'user_not_found'
  | 'user_exists'
  | 'token_exists'
  | 'token_not_found'
  | 'invalid_input';

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

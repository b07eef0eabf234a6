/**
 * Every error a caller of src/app may meet, from the room that defines it, in one place: each
 * boundary (the CLI, the HTTP API) maps them in its one error mapper. Only error classes here, so
 * that loading the error path loads no driver, no zod and no config.
 */
export { ConfigError, DomainError, type DomainErrorCode } from '../domain/errors.js';
export { ConcurrencyError, StoreUnavailableError } from '../eventstore/port.js';
export { ProjectionBehindError, ProjectionUnavailableError } from '../projection/port.js';
export { ExecutedBehindError, KeyIssuedBehindError } from './behind.js';

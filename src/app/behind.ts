import { ProjectionBehindError, type ProjectionUnavailableError } from '../projection/port.js';
import type { Executed, IssuedToken } from './results.js';

/*
 * A write that is in the log while the projection could not be brought up to it (see
 * ProjectionBehindError), with what the app layer needs to finish its answer. No zod and no
 * config here: the CLI's error path loads this module.
 */

/** Thrown by `execute`: what was appended, and the user's state after it. */
export class ExecutedBehindError extends ProjectionBehindError {
  constructor(
    cause: ProjectionUnavailableError,
    readonly executed: Executed,
  ) {
    super(cause);
  }
}

/** A new key is in the log: it exists nowhere else, so it travels with the error to be shown. */
export class KeyIssuedBehindError extends ProjectionBehindError {
  constructor(
    cause: ProjectionUnavailableError,
    readonly issued: IssuedToken,
  ) {
    super(cause);
  }
}

import { ProjectionBehindError, type ProjectionUnavailableError } from '../projection/port.js';
import type { Executed, IssuedToken } from './results.js';

/*
 * A write that is in the log while the projection could not be brought up to it (see
 * ProjectionBehindError), with what the app layer needs to finish its answer. No zod and no
 * config here: the CLI's error path loads this module.
 */

/**
 * What these errors carry for the app layer (a user's state with its password hash and digests,
 * a new key) is a secret: it is kept off the enumerable fields and out of `toJSON`, so that
 * anything that serialises the error (a logger, JSON.stringify, util.inspect's default) sees only
 * its name and message. The log's own error serialiser is an allow-list too (src/http/logging.ts).
 */
function hide<T extends object>(error: T, field: string, value: unknown): void {
  Object.defineProperty(error, field, { value, enumerable: false, writable: false, configurable: false });
}

/** Thrown by `execute`: what was appended, and the user's state after it. */
export class ExecutedBehindError extends ProjectionBehindError {
  declare readonly executed: Executed;
  constructor(cause: ProjectionUnavailableError, executed: Executed) {
    super(cause);
    hide(this, 'executed', executed);
  }
  toJSON(): { name: string; message: string } {
    return { name: this.name, message: this.message };
  }
}

/** A new key is in the log: it exists nowhere else, so it travels with the error to be shown. */
export class KeyIssuedBehindError extends ProjectionBehindError {
  declare readonly issued: IssuedToken;
  constructor(cause: ProjectionUnavailableError, issued: IssuedToken) {
    super(cause);
    hide(this, 'issued', issued);
  }
  toJSON(): { name: string; message: string } {
    return { name: this.name, message: this.message };
  }
}

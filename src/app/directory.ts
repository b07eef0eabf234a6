import { DomainError } from '../domain/index.js';
import { openDirectory, type DirectoryRuntime, type DirectorySettings } from '../directory/open.js';
import { DirectoryQueryError, DirectoryUnavailableError } from '../directory/port.js';
import type { EventStore } from '../eventstore/port.js';
import { sealedView } from '../eventstore/vault/index.js';
import { ProjectionUnavailableError } from '../projection/port.js';

/**
 * How a ledger reaches the directory. Two modes:
 * - `following`: a server's directory, whose projector follows the log; a list answers from it at
 *   once (bounded work per request), and a write waits for the projector to apply it.
 * - otherwise (a CLI command, a library user): opened on first use; a write catches the directory
 *   up to itself before it returns, a list catches up to the head first (one indexed read when
 *   nothing is new), so whatever another process wrote shows too.
 */
export interface DirectoryAccess {
  /** The directory, ready to answer (caught up to the head unless a projector follows the log). */
  ready(): Promise<DirectoryRuntime>;
  /** Read-your-writes: resolves once the directory reflects `position`. */
  afterAppend(position: bigint): Promise<void>;
  close(): Promise<void>;
}

/** A failure of the directory as the boundaries know it: a bad query parameter, or a backend down. */
export function translateDirectoryError(error: unknown): unknown {
  if (error instanceof DirectoryQueryError) return new DomainError('invalid_input', error.message, { field: error.field });
  if (error instanceof DirectoryUnavailableError) return new ProjectionUnavailableError(error.message);
  return error;
}

export async function guarded<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw translateDirectoryError(error);
  }
}

/** A server's directory runtime, whose projector the server started. */
export function followingDirectory(runtime: DirectoryRuntime): DirectoryAccess {
  return {
    ready: async () => runtime,
    afterAppend: async (position) => void (await guarded(runtime.projector.catchUp(position))),
    close: async () => {},
  };
}

/** The directory the settings name, opened on first use and closed with the ledger. */
export function lazyDirectory(settings: DirectorySettings, events: EventStore): DirectoryAccess {
  let opened: Promise<DirectoryRuntime> | undefined;
  const open = () => (opened ??= guarded(openDirectory(settings, events)));
  return {
    async ready() {
      const runtime = await open();
      await guarded(runtime.projector.catchUp());
      return runtime;
    },
    async afterAppend(position) {
      const runtime = await open();
      try {
        await guarded(runtime.projector.catchUp(position));
      } catch (error) {
        if (!(error instanceof ProjectionUnavailableError)) throw error;
        throw new ProjectionUnavailableError(`${error.message}; the change is recorded in the log and reaches the directory at its next catch-up`);
      }
    },
    async close() {
      const runtime = await opened?.catch(() => undefined);
      await runtime?.close();
    },
  };
}

/** The store URL a ledger built without settings stands for (tests, library users): its SQLite file, if any. */
export function storeUrlOf(store: EventStore): string {
  const path = (sealedView(store) as { path?: unknown }).path;
  return typeof path === 'string' ? `sqlite:${path}` : 'sqlite::memory:';
}

/**
 * A server's directory: opened, caught up with the log and following it, for `openLedger`'s
 * `directory` option. Failures of a following round go to `onError` (the loop retries).
 */
export async function openFollowingDirectory(
  settings: DirectorySettings,
  events: EventStore,
  options: { onError?: (error: unknown) => void } = {},
): Promise<DirectoryRuntime> {
  const runtime = await guarded(openDirectory(settings, events, { onError: options.onError }));
  try {
    await guarded(runtime.projector.catchUp());
  } catch (error) {
    await runtime.close().catch(() => {});
    throw error;
  }
  runtime.projector.start();
  return runtime;
}

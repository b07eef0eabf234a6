import { basename, dirname, join } from 'node:path';
import type { EventStore } from '../eventstore/port.js';
import { DirectoryUnavailableError, type DirectoryStore } from './port.js';
import { DirectoryProjector, type DirectoryProjectorOptions } from './projector.js';

/** What the directory needs of the settings (config.ts's Settings is one). */
export interface DirectorySettings {
  /** The event store (TOKENLEDGER_STORE): the default directory sits beside it. */
  store: string;
  /** TOKENLEDGER_DIRECTORY: `sqlite:<path>` or `postgres://…[?schema=…]`; null for the default. */
  directory: string | null;
}

/** Where the directory of a store lives by default, when TOKENLEDGER_DIRECTORY is not set. */
export const KURRENT_DEFAULT_DIRECTORY = 'sqlite:./data/tokenledger.directory.db';

/**
 * The directory's location as a URL: the setting when given, else beside the log. SQLite log
 * `x/name.db` → `sqlite:x/name.directory.db` (a file of its own, so the log's writers never wait on
 * the directory's); PostgreSQL `…?schema=s` → the same database, schema `s_directory`; KurrentDB →
 * `sqlite:./data/tokenledger.directory.db`.
 */
export function directoryUrl(settings: DirectorySettings): string {
  if (settings.directory !== null) return settings.directory;
  const { store } = settings;
  if (store.startsWith('sqlite:')) {
    const path = store.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === ':memory:') return 'sqlite::memory:';
    const name = basename(path);
    const dot = name.lastIndexOf('.');
    const own = dot > 0 ? `${name.slice(0, dot)}.directory${name.slice(dot)}` : `${name}.directory`;
    return `sqlite:${join(dirname(path), own)}`;
  }
  if (/^postgres(ql)?:\/\//.test(store)) {
    const url = new URL(store);
    url.searchParams.set('schema', `${url.searchParams.get('schema') ?? 'tokenledger'}_directory`);
    return url.toString();
  }
  return KURRENT_DEFAULT_DIRECTORY;
}

/** Opens the directory store a URL names (tables are made on first open). */
export async function openDirectoryStore(url: string): Promise<DirectoryStore> {
  if (url.startsWith('sqlite:')) {
    const { SqliteDirectory } = await import('./sqlite.js');
    return new SqliteDirectory(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresDirectory } = await import('./postgres.js');
    return PostgresDirectory.open(url);
  }
  throw new DirectoryUnavailableError(
    `TOKENLEDGER_DIRECTORY: unsupported directory "${url.split(':', 1)[0]}:" (expected sqlite:<path> or postgres://…)`,
  );
}

/** A directory with its projector, on an event store. */
export interface DirectoryRuntime {
  store: DirectoryStore;
  projector: DirectoryProjector;
  close(): Promise<void>;
}

/** Opens the directory the settings name, with a projector on `events` (not started). */
export async function openDirectory(settings: DirectorySettings, events: EventStore, options: DirectoryProjectorOptions = {}): Promise<DirectoryRuntime> {
  const store = await openDirectoryStore(directoryUrl(settings));
  const projector = new DirectoryProjector(events, store, options);
  return {
    store,
    projector,
    async close() {
      await projector.stop();
      await store.close();
    },
  };
}

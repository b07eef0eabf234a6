import type { EventStore } from './port.js';
import { loadDriver } from './driver.js';
import { StoreUnavailableError } from './port.js';

export interface OpenStoreOptions {
  /** How long an append waits for a write lock another process holds (SQLite); default 30 s. */
  writeWaitMs?: number;
}

/**
 * Opens the event store a `TOKENLEDGER_STORE` URL names. Adapters are imported lazily so that a
 * command only loads the driver it uses; the PostgreSQL and KurrentDB drivers are optional peer
 * dependencies, and a missing one is a one-line error naming the package.
 */
export async function openEventStore(url: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  if (url.startsWith('sqlite:')) {
    const { SqliteEventStore } = await import('./sqlite.js');
    return new SqliteEventStore(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''), { writeWaitMs: options.writeWaitMs });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresEventStore } = await loadDriver('postgres', () => import('./postgres.js'));
    return PostgresEventStore.open(url);
  }
  if (/^(kurrentdb|esdb):\/\//.test(url)) {
    const { KurrentEventStore } = await loadDriver('kurrentdb', () => import('./kurrentdb.js'));
    return KurrentEventStore.open(url);
  }
  const scheme = url.split(':', 1)[0];
  throw new StoreUnavailableError(
    `TOKENLEDGER_STORE: unsupported store "${scheme}:" (expected sqlite:<path>, postgres://… or kurrentdb://…)`,
  );
}

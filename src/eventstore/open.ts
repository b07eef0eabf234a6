import type { EventStore } from './port.js';
import { StoreUnavailableError } from './port.js';

/**
 * Opens the event store a `TOKENLEDGER_STORE` URL names. Adapters are imported lazily so that a
 * command only loads the driver it uses.
 */
export async function openEventStore(url: string): Promise<EventStore> {
  if (url.startsWith('sqlite:')) {
    const { SqliteEventStore } = await import('./sqlite.js');
    return new SqliteEventStore(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresEventStore } = await import('./postgres.js');
    return PostgresEventStore.open(url);
  }
  if (/^(kurrentdb|esdb):\/\//.test(url)) {
    const { KurrentEventStore } = await import('./kurrentdb.js');
    return KurrentEventStore.open(url);
  }
  const scheme = url.split(':', 1)[0];
  throw new StoreUnavailableError(
    `TOKENLEDGER_STORE: unsupported store "${scheme}:" (expected sqlite:<path>, postgres://… or kurrentdb://…)`,
  );
}

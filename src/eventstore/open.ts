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
  const scheme = url.split(':', 1)[0];
  throw new StoreUnavailableError(
    `TOKENLEDGER_STORE: unsupported store "${scheme}:" (expected sqlite:<path>)`,
  );
}

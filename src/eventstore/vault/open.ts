import { loadDriver } from '../driver.js';
import { openEventStore } from '../open.js';
import { StoreUnavailableError } from '../port.js';
import { SealedLog } from './log.js';
import type { Vault } from './port.js';

const DEFAULT_PG_SCHEMA = 'tokenledger';

/**
 * The vault that goes with a store when TOKENLEDGER_VAULT is not set: a SQLite file beside a
 * SQLite log (`data/x.db` → `data/x.vault.db`), the schema `<schema>_vault` of a PostgreSQL log's
 * database, memory beside a memory log, and for KurrentDB (which cannot really delete) a SQLite
 * file in ./data.
 */
export function defaultVaultUrl(storeUrl: string): string {
  if (storeUrl.startsWith('sqlite:')) {
    const path = storeUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === ':memory:') return 'memory:';
    return `sqlite:${/\.(db|sqlite3?)$/.test(path) ? path.replace(/\.(db|sqlite3?)$/, '.vault.$1') : `${path}.vault`}`;
  }
  if (/^postgres(ql)?:\/\//.test(storeUrl)) {
    const url = new URL(storeUrl);
    url.searchParams.set('schema', `${url.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA}_vault`);
    return url.toString();
  }
  return 'sqlite:./data/tokenledger.vault.db';
}

/** Opens the vault a `TOKENLEDGER_VAULT` URL names: `sqlite:<path>`, `postgres://…?schema=S`, or `memory:`. */
export async function openVault(url: string): Promise<Vault> {
  if (url === 'memory:') {
    const { MemoryVault } = await import('./memory.js');
    return new MemoryVault();
  }
  if (url.startsWith('sqlite:')) {
    const { SqliteVault } = await import('./sqlite.js');
    return new SqliteVault(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresVault } = await loadDriver('postgres', () => import('./postgres.js'));
    let schema: string;
    try {
      schema = new URL(url).searchParams.get('schema') ?? `${DEFAULT_PG_SCHEMA}_vault`;
    } catch {
      throw new StoreUnavailableError('TOKENLEDGER_VAULT: not a valid postgres:// URL');
    }
    return PostgresVault.open(url, schema);
  }
  throw new StoreUnavailableError(`TOKENLEDGER_VAULT: unsupported vault "${url.split(':', 1)[0]}:" (expected sqlite:<path> or postgres://…)`);
}

/** What the log needs to know: the store, and the vault (default: beside the store). */
export interface LogSettings {
  store: string;
  vault?: string | null;
  /** See OpenStoreOptions. */
  writeWaitMs?: number;
}

/** The event store and its vault, as one sealing log (see SealedLog). */
export async function openLog(settings: LogSettings): Promise<SealedLog> {
  // The store first: when neither opens, the store's error is the one to report.
  const store = await openEventStore(settings.store, { writeWaitMs: settings.writeWaitMs });
  try {
    return new SealedLog(store, await openVault(settings.vault ?? defaultVaultUrl(settings.store)));
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

import { openLog } from '../eventstore/vault/index.js';
import type { EventStore } from '../eventstore/port.js';
import { MemoryProjectionStore } from './memory.js';
import type { ProjectionStore } from './port.js';
import { Projector, type ProjectorOptions } from './projector.js';

/** What the projection needs of the settings (config.ts's Settings is one). */
export interface ProjectionSettings {
  /** The event store to follow (TOKENLEDGER_STORE). */
  store: string;
  /** Its vault (TOKENLEDGER_VAULT); null or absent: beside the store. */
  vault?: string | null;
  /** The Redis of the projection (TOKENLEDGER_REDIS_URL); null: process memory. */
  redisUrl: string | null;
  /** Prefix of every Redis key (TOKENLEDGER_REDIS_PREFIX). */
  redisPrefix: string;
}

/** A projection store with its projector, on an event store. */
export interface ProjectionRuntime {
  store: ProjectionStore;
  projector: Projector;
  events: EventStore;
  /** Stops the projector and closes what `openProjection` opened. */
  close(): Promise<void>;
}

export interface OpenProjectionOptions extends ProjectorOptions {
  /**
   * The event store to follow; default: open the one the settings name, as a sealing log (opened
   * events: the records need the usernames), and close it on close.
   */
  events?: EventStore;
  /** Bound on one Redis lookup before it counts as unavailable. Default 250 ms. */
  lookupTimeoutMs?: number;
}

/**
 * The projection the settings describe: Redis when TOKENLEDGER_REDIS_URL is set, else process
 * memory (empty until its projector catches up). The projector is not started: a server calls
 * `await projector.catchUp()` then `projector.start()`; a CLI command only catches up.
 */
export async function openProjection(settings: ProjectionSettings, options: OpenProjectionOptions = {}): Promise<ProjectionRuntime> {
  const events = options.events ?? (await openLog(settings));
  let store: ProjectionStore;
  try {
    if (settings.redisUrl === null) {
      store = new MemoryProjectionStore();
    } else {
      // Imported here so that processes on the memory projection never load the Redis driver.
      const { RedisProjectionStore } = await import('./redis/store.js');
      store = await RedisProjectionStore.open({ url: settings.redisUrl, prefix: settings.redisPrefix, lookupTimeoutMs: options.lookupTimeoutMs });
    }
  } catch (error) {
    if (!options.events) await events.close();
    throw error;
  }
  const projector = new Projector(events, store, options);
  return {
    store,
    projector,
    events,
    async close() {
      await projector.stop();
      await store.close();
      if (!options.events) await events.close();
    },
  };
}

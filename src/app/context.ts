import { randomBytes, randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Channel, RandomBytes } from '../domain/index.js';
import type { EventStore } from '../eventstore/port.js';

/** Who is acting, through what and from where: stamped on every event the call appends. */
export interface Actor {
  actor: string;
  channel: Channel;
  source: string;
  correlationId?: string;
}

/** What the application services run on. Clock, ids and randomness are injectable for tests. */
export interface LedgerDeps {
  store: EventStore;
  tokenPrefix: string;
  clock: () => Date;
  random: RandomBytes;
  newId: () => string;
  /** Read-your-writes: resolves once the configured projection reflects `position`. */
  afterAppend: (position: bigint) => Promise<void>;
}

export function defaultDeps(store: EventStore, tokenPrefix = 'tl'): LedgerDeps {
  return {
    store,
    tokenPrefix,
    clock: () => new Date(),
    random: (size) => randomBytes(size),
    newId: () => randomUUID(),
    afterAppend: async () => {},
  };
}

/** The actor of a CLI command: the OS user on this host. */
export function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep "unknown"
  }
  return { actor: user, channel: 'cli', source: hostname() };
}

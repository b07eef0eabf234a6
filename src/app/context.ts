import { randomBytes, randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Channel, RandomBytes } from '../domain/index.js';
import type { EventStore } from '../eventstore/port.js';
import { hasSnapshots, type SnapshotStore } from '../eventstore/snapshots.js';

/** Who is acting, through what and from where: stamped on every event the call appends. */
export interface Actor {
  actor: string;
  channel: Channel;
  source: string;
  correlationId?: string;
}

/**
 * What a caller may do. The HTTP API fills it from the presented token (its user and scopes), the
 * admin console from the signed-in staff member; the CLI is the OPERATOR, whose rights are those
 * of whoever may run commands on the store: all of them. The rules that read it are in
 * privileges.ts, applied by the application services, so every channel gets the same ones.
 */
export interface Privileges {
  /** The user acting, or null for the operator at the shell. */
  username: string | null;
  isStaff: boolean;
  isSuperuser: boolean;
  /** The scopes of the token the caller came with; null: unscoped (everything the user may do). */
  scopes: readonly string[] | null;
  /** The caller's secret is one a rotation superseded, still working in its grace period. */
  inGrace: boolean;
}

/** Who is acting (stamped on events) and what they may do. */
export interface Caller extends Actor, Privileges {}

/** The privileges of the CLI: an operator at the shell has full rights. */
export const OPERATOR_PRIVILEGES: Privileges = Object.freeze({
  username: null,
  isStaff: true,
  isSuperuser: true,
  scopes: null,
  inGrace: false,
});

/** An actor (a CLI user, a test, a script on the store's host) with the operator's full rights. */
export function operator(actor: Actor): Caller {
  return { ...actor, ...OPERATOR_PRIVILEGES };
}

/** What the application services run on. Clock, ids and randomness are injectable for tests. */
export interface LedgerDeps {
  store: EventStore;
  /**
   * Snapshots of users' state in the log's database (SQLite, PostgreSQL); null: every load folds
   * the whole stream (KurrentDB). A cache: deleting them changes no answer.
   */
  snapshots: SnapshotStore | null;
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
    snapshots: hasSnapshots(store) ? store.snapshotStore() : null,
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

/** The CLI's caller: the OS user on this host, with the operator's full rights. */
export function cliCaller(): Caller {
  return operator(cliActor());
}

/** The OPERATOR caller of the CLI (the OS user on this host, full rights). */
export const OPERATOR: Caller = Object.freeze(cliCaller());

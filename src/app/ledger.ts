import { loadSettings, type Settings } from '../config.js';
import { openEventStore } from '../eventstore/open.js';
import type { EventStore } from '../eventstore/port.js';
import type { ProjectionRuntime } from '../projection/open.js';
import { readYourWrites } from '../projection/read-your-writes.js';
import { requireSuperuser } from './privileges.js';
import { cliCaller, defaultDeps, type Caller, type LedgerDeps } from './context.js';
import { importDrf, type DrfImportInput, type DrfImportOptions } from './import-drf.js';
import { listTokens, listUsers, verifyKey } from './queries.js';
import { issueToken, revokeToken, rotateToken, type IssueTokenInput, type RevokeTokenInput, type RotateTokenInput } from './tokens.js';
import { registerUser, setActive, setFlags, setPassword, type RegisterUserInput } from './users.js';

/**
 * The service API: one object per open event store. Every write returns once it is in the log
 * (and, when a projection is attached, once the projection reflects it).
 */
export class Ledger {
  constructor(
    readonly deps: LedgerDeps,
    /** Who acts (stamped on events) and what they may do; the CLI's operator by default. */
    readonly actor: Caller = cliCaller(),
    /** Closed with the ledger (a projection connection opened for read-your-writes). */
    private readonly resources: { close(): Promise<void> }[] = [],
  ) {}

  get store(): EventStore {
    return this.deps.store;
  }

  /** The same ledger acting for someone else (an HTTP caller, an admin session), under their privileges. */
  as(caller: Caller): Ledger {
    return new Ledger(this.deps, caller, this.resources);
  }

  registerUser(input: RegisterUserInput) {
    return registerUser(this.deps, this.actor, input);
  }
  setPassword(username: string, password: string | null) {
    return setPassword(this.deps, this.actor, username, password);
  }
  deactivateUser(username: string) {
    return setActive(this.deps, this.actor, username, false);
  }
  activateUser(username: string) {
    return setActive(this.deps, this.actor, username, true);
  }
  setUserFlags(username: string, flags: { isStaff?: boolean; isSuperuser?: boolean }) {
    return setFlags(this.deps, this.actor, username, flags);
  }
  issueToken(input: IssueTokenInput) {
    return issueToken(this.deps, this.actor, input);
  }
  rotateToken(input: RotateTokenInput) {
    return rotateToken(this.deps, this.actor, input);
  }
  revokeToken(input: RevokeTokenInput) {
    return revokeToken(this.deps, this.actor, input);
  }
  /** Imports DRF users and keys read by src/import (events: channel `import`, this ledger's actor). */
  async importDrf(input: DrfImportInput, options: DrfImportOptions = {}) {
    // An import registers staff and superusers as Django had them: superusers (the CLI's operator) only.
    requireSuperuser(this.actor, 'import users');
    return importDrf(this.deps, this.actor, input, options);
  }
  listUsers() {
    return listUsers(this.deps.store);
  }
  listTokens(options: { username?: string; at?: string } = {}) {
    return listTokens(this.deps.store, options);
  }
  /** Whether a key is valid now (or at `at`), computed from the log alone. */
  verifyKey(key: string, at: Date = this.deps.clock()) {
    return verifyKey(this.deps.store, this.deps.tokenPrefix, key, at);
  }
  async close(): Promise<void> {
    for (const resource of this.resources) await resource.close();
    await this.deps.store.close();
  }
}

/**
 * Opens the ledger the settings (flags, then environment, then defaults) describe. Writes wait
 * for the projection: `projection`'s projector when given (a server's), else Redis caught up by
 * this process when TOKENLEDGER_REDIS_URL is set (see readYourWrites).
 */
export async function openLedger(options: { settings?: Settings; actor?: Caller; projection?: ProjectionRuntime } = {}): Promise<Ledger> {
  const settings = options.settings ?? loadSettings();
  const store = await openEventStore(settings.store, { writeWaitMs: settings.writeWaitMs });
  const projection = readYourWrites(settings, store, options.projection);
  const deps = { ...defaultDeps(store, settings.tokenPrefix), afterAppend: projection.afterAppend };
  return new Ledger(deps, options.actor, [projection]);
}

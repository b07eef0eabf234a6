import { loadSettings, type Settings } from '../config.js';
import { openLog } from '../eventstore/vault/index.js';
import type { EventStore } from '../eventstore/port.js';
import type { ProjectionRuntime } from '../projection/open.js';
import { readYourWrites } from '../projection/read-your-writes.js';
import { requireSuperuser } from './privileges.js';
import { cliCaller, defaultDeps, type Caller, type LedgerDeps } from './context.js';
import { importDrf, type DrfImportInput, type DrfImportOptions } from './import-drf.js';
import type { DirectoryRuntime } from '../directory/open.js';
import { followingDirectory, lazyDirectory, storeUrlOf, type DirectoryAccess } from './directory.js';
import { auditStreams, counts, listTokens, listUsers, tokensAt, verifyKey, type TokenQuery, type UserQuery } from './queries.js';
import { issueToken, revokeToken, rotateToken, type IssueTokenInput, type RevokeTokenInput, type RotateTokenInput } from './tokens.js';
import { deleteUser, registerUser, setActive, setFlags, setPassword, type RegisterUserInput } from './users.js';

/**
 * The service API: one object per open event store. Every write returns once it is in the log
 * (and, when a projection is attached, once the projection reflects it).
 */
export class Ledger {
  /** The query read model: lists, searches, counts and the digest history. */
  readonly directory: DirectoryAccess;

  constructor(
    readonly deps: LedgerDeps,
    /** Who acts (stamped on events) and what they may do; the CLI's operator by default. */
    readonly actor: Caller = cliCaller(),
    /** Closed with the ledger (a projection connection opened for read-your-writes). */
    private readonly resources: { close(): Promise<void> }[] = [],
    directory?: DirectoryAccess,
  ) {
    // A ledger made from bare deps (tests, library users) finds its directory beside its SQLite
    // log (or in memory), opened on first use and caught up before every answer.
    if (directory === undefined) {
      directory = lazyDirectory({ store: storeUrlOf(deps.store), directory: null }, deps.store);
      this.resources = [...resources, directory];
    }
    this.directory = directory;
  }

  get store(): EventStore {
    return this.deps.store;
  }

  /** The same ledger acting for someone else (an HTTP caller, an admin session), under their privileges. */
  as(caller: Caller): Ledger {
    return new Ledger(this.deps, caller, this.resources, this.directory);
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
  /** Erases the user (see deleteUser): tokens dead at once, personal data unreadable, username reserved. */
  deleteUser(username: string) {
    return deleteUser(this.deps, this.actor, username);
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
  /** A page of users, sorted by username (see UserQuery for the filters). */
  listUsers(query: UserQuery = {}) {
    return listUsers(this.directory, query, this.deps.clock());
  }
  /** A page of tokens, sorted by user then creation; statuses as of now (see TokenQuery). */
  listTokens(query: TokenQuery = {}) {
    return listTokens(this.directory, query, this.deps.clock());
  }
  /** Users and tokens counted by state, for dashboards. */
  counts(withinMs?: number) {
    return counts(this.directory, this.deps.clock(), withinMs);
  }
  /** The streams an audit query reads instead of the whole log (its user's, or its token's owners'); undefined: the log. */
  auditStreams(query: { user?: string; token?: string }) {
    return auditStreams(this.deps.store, this.directory, query);
  }
  /** One user's tokens as their stream stood at `at` (ISO), from that stream alone (and its snapshot). */
  tokensAt(username: string, at: string) {
    return tokensAt(this.deps, username, at);
  }
  /** Whether a key is valid now (or at `at`): its holder from the digest history, then that user's stream. */
  verifyKey(key: string, at: Date = this.deps.clock()) {
    return verifyKey(this.deps, this.directory, this.deps.tokenPrefix, key, at);
  }
  async close(): Promise<void> {
    for (const resource of this.resources) await resource.close();
    await this.deps.store.close();
  }
}

/**
 * Opens the ledger the settings (flags, then environment, then defaults) describe. Writes wait
 * for the projection: `projection`'s projector when given (a server's), else Redis caught up by
 * this process when TOKENLEDGER_REDIS_URL is set (see readYourWrites); and for the directory:
 * `directory`'s projector when given, else this process catches it up (see DirectoryAccess).
 */
export async function openLedger(
  options: { settings?: Settings; actor?: Caller; projection?: ProjectionRuntime; directory?: DirectoryRuntime } = {},
): Promise<Ledger> {
  const settings = options.settings ?? loadSettings();
  const store = await openLog(settings);
  const projection = readYourWrites(settings, store, options.projection);
  // A server's directory follows the log with its own projector; a command opens it on first use.
  const directory = options.directory ? followingDirectory(options.directory) : lazyDirectory(settings, store);
  // Both read models are waited for even when one fails, so that the other already shows the
  // change when the caller hears of the failure (a key issued while Redis refuses writes is listed).
  const afterAppend = async (position: bigint) => {
    const [lookups, lists] = await Promise.allSettled([projection.afterAppend(position), directory.afterAppend(position)]);
    if (lookups.status === 'rejected') throw lookups.reason;
    if (lists.status === 'rejected') throw lists.reason;
  };
  const deps = { ...defaultDeps(store, settings.tokenPrefix), afterAppend };
  return new Ledger(deps, options.actor, [projection, directory], directory);
}

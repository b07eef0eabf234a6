import { DomainError } from './errors.js';
import type { LedgerEvent, TokenKind } from './events.js';
import { DueQueue, isGone, leavesStateAt } from './expiry.js';
import type { TokenFormat } from './token-format.js';

export interface TokenState {
  tokenId: string;
  name: string;
  kind: TokenKind;
  format: TokenFormat;
  digest: string;
  keyPrefix: string;
  scopes: string[];
  description: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastRotatedAt: string | null;
  /** The secret a rotation replaced, while its grace period may still run. */
  previous: { digest: string; graceUntil: string } | null;
}

export interface PresentUser {
  exists: true;
  userId: string;
  username: string;
  active: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  passwordHash: string | null;
  createdAt: string;
  /**
   * Tokens by name: not revoked, and not yet gone by the expiry rule (a token leaves the state at
   * the first event at or after its expiry plus EXPIRED_RETENTION_MS; `decide` applies the same
   * rule at the command's time). An expired token in its retention week is still here.
   */
  tokens: Record<string, TokenState>;
  /**
   * When (ISO) the most recent login tokens were issued, oldest first: at most RECENT_LOGINS_KEPT,
   * none older than RECENT_LOGINS_WINDOW_MS before the last one. What the per-user login rate counts.
   */
  recentLogins: string[];
}

/**
 * The version of the folded state: its shape (PresentUser) and the rules that make it (`apply`).
 * Snapshots of another version are ignored, so change it whenever either changes; the unit test
 * test/domain/user-state-version.unit.test.ts fails until you do.
 */
export const USER_STATE_VERSION = 2;

/** How many login times the state keeps: the highest login rate a setting may ask for. */
export const RECENT_LOGINS_KEPT = 100;
/** How far back login times are kept: the longest window a login rate may use. */
export const RECENT_LOGINS_WINDOW_MS = 3_600_000;

/** At most `limit` successful logins per user within any `windowMs`. */
export interface LoginRate {
  limit: number;
  windowMs: number;
}

/** No user (`deleted` absent), or a deleted one whose username stays reserved. */
export type UserState = { exists: false; deleted?: true } | PresentUser;

export const initialState = (): UserState => ({ exists: false });

export type UserCommand =
  | {
      type: 'RegisterUser';
      data: { userId: string; username: string; isStaff: boolean; isSuperuser: boolean; passwordHash: string | null; now: string };
    }
  | { type: 'SetPassword'; data: { passwordHash: string | null; now: string } }
  /** Replaces `verified` (the stored string a login just verified) by `passwordHash`, the same password under today's scheme. */
  | { type: 'RehashPassword'; data: { verified: string; passwordHash: string; now: string } }
  | { type: 'DeactivateUser'; data: { now: string } }
  | { type: 'ActivateUser'; data: { now: string } }
  | { type: 'SetUserFlags'; data: { isStaff?: boolean; isSuperuser?: boolean; now: string } }
  | { type: 'DeleteUser'; data: { now: string } }
  | {
      type: 'IssueToken';
      data: {
        tokenId: string;
        name: string;
        kind: TokenKind;
        format: TokenFormat;
        digest: string;
        keyPrefix: string;
        scopes: string[];
        description: string | null;
        expiresAt: string | null;
        reset: boolean;
        now: string;
        /** Live login tokens allowed per user; issuing one more retires the oldest. */
        loginLimit?: number | null;
        /** Login tokens allowed per user per window (at most RECENT_LOGINS_KEPT per RECENT_LOGINS_WINDOW_MS). */
        loginRate?: LoginRate | null;
      };
    }
  | {
      type: 'RotateToken';
      data: { name: string; digest: string; keyPrefix: string; graceMs: number; now: string };
    }
  | { type: 'RevokeToken'; data: { name: string | null; all: boolean; reason: string | null; now: string } }
  | { type: 'ImportUser'; data: ImportedUser & { now: string } };

/** The name and format of the token a DRF key becomes on import. */
export const IMPORTED_TOKEN_NAME = 'drf';

/**
 * A user as an import brings them (from DRF: `auth_user` and `authtoken_token`): the password is
 * the stored string as the source kept it (or null: none), the token only its key's digest.
 */
export interface ImportedUser {
  userId: string;
  username: string;
  active: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  passwordHash: string | null;
  joinedAt: string;
  token: { tokenId: string; digest: string; keyPrefix: string; createdAt: string } | null;
  /**
   * For a user who exists: null leaves them as they are; otherwise what to bring to the imported
   * values (the caller's explicit choice to overwrite), and whether to keep the password.
   */
  overwrite: { keepPassword: boolean } | null;
}

function requireUser(state: UserState, username: string, message?: string): PresentUser {
  if (!state.exists) throw new DomainError('user_not_found', message ?? `User ${username} does not exist`, { username });
  return state;
}

/** The digests that still open a door for this token at `now`. */
export function liveDigests(token: TokenState, now: string): string[] {
  const previous = token.previous && token.previous.graceUntil > now ? [token.previous.digest] : [];
  return [token.digest, ...previous];
}

function minIso(a: string, b: string | null): string {
  return b !== null && b < a ? b : a;
}

/**
 * Decides which events a command produces in a user's stream, or throws a DomainError.
 * Pure: the clock, ids, digests and password hashes all arrive inside the command.
 */
export function decide(command: UserCommand, stateBefore: UserState, username: string): LedgerEvent[] {
  // Tokens gone by the expiry rule at the command's time do not exist for it, whether or not an
  // event has been folded since they went.
  const state = asOf(stateBefore, command.data.now);
  switch (command.type) {
    case 'RegisterUser': {
      if (state.exists) throw new DomainError('user_exists', `User ${username} already exists`, { username });
      if (state.deleted) {
        // The same refusal as a taken name (HTTP says DRF's "already exists"), so that a new user
        // never inherits an erased user's audit trail.
        throw new DomainError('user_exists', `User ${username} was deleted; the username stays reserved`, { username, reserved: true });
      }
      const { now, ...rest } = command.data;
      return [{ type: 'UserRegistered', data: { ...rest, at: now } }];
    }
    case 'SetPassword': {
      requireUser(state, username);
      return [{ type: 'UserPasswordSet', data: { passwordHash: command.data.passwordHash, at: command.data.now } }];
    }
    case 'RehashPassword': {
      const user = requireUser(state, username);
      // Only the string the login verified is replaced: if the password changed meanwhile, or a
      // concurrent login re-hashed it first, there is nothing left to upgrade.
      if (user.passwordHash !== command.data.verified) return [];
      return [{ type: 'UserPasswordRehashed', data: { passwordHash: command.data.passwordHash, at: command.data.now } }];
    }
    case 'DeactivateUser': {
      const user = requireUser(state, username);
      return user.active ? [{ type: 'UserDeactivated', data: { at: command.data.now } }] : [];
    }
    case 'ActivateUser': {
      const user = requireUser(state, username);
      return user.active ? [] : [{ type: 'UserActivated', data: { at: command.data.now } }];
    }
    case 'SetUserFlags': {
      const user = requireUser(state, username);
      const isStaff = command.data.isStaff ?? user.isStaff;
      const isSuperuser = command.data.isSuperuser ?? user.isSuperuser;
      if (isStaff === user.isStaff && isSuperuser === user.isSuperuser) return [];
      return [{ type: 'UserFlagsChanged', data: { isStaff, isSuperuser, at: command.data.now } }];
    }
    case 'DeleteUser': {
      // Deleting twice writes nothing (the app finishes an interrupted shred instead).
      if (!state.exists && state.deleted) return [];
      requireUser(state, username);
      return [{ type: 'UserDeleted', data: { at: command.data.now } }];
    }
    case 'IssueToken':
      return decideIssue(command.data, state, username);
    case 'ImportUser':
      return decideImport(command.data, state);
    case 'RotateToken': {
      const user = requireUser(state, username);
      const { name, digest, keyPrefix, graceMs, now } = command.data;
      const token = user.tokens[name];
      if (!token) throw new DomainError('token_not_found', `User ${username} has no token named ${name}`, { username, name });
      const graceUntil =
        graceMs > 0 ? minIso(new Date(Date.parse(now) + graceMs).toISOString(), token.expiresAt) : null;
      const droppedDigests = liveDigests(token, now).filter((d) => d !== token.digest);
      return [
        {
          type: 'TokenRotated',
          data: { tokenId: token.tokenId, name, digest, keyPrefix, previousDigest: token.digest, graceUntil, droppedDigests, at: now },
        },
      ];
    }
    case 'RevokeToken': {
      const user = requireUser(state, username);
      const { name, all, reason, now } = command.data;
      const targets = all ? Object.values(user.tokens) : [user.tokens[name ?? 'default']].filter((t) => t !== undefined);
      if (!all && targets.length === 0) {
        throw new DomainError('token_not_found', `User ${username} has no token named ${name ?? 'default'}`, { username, name });
      }
      return targets.map((token) => revoked(token, reason, now));
    }
  }
}

function revoked(token: TokenState, reason: string | null, now: string): LedgerEvent {
  return {
    type: 'TokenRevoked',
    data: { tokenId: token.tokenId, name: token.name, digests: liveDigests(token, now), reason, at: now },
  };
}

function decideIssue(data: Extract<UserCommand, { type: 'IssueToken' }>['data'], state: UserState, username: string): LedgerEvent[] {
  const user = requireUser(state, username, `Cannot create the Token: user ${username} does not exist`);
  const { reset, now, loginLimit, loginRate, ...token } = data;
  if (token.kind === 'login' && loginRate) checkLoginRate(user, loginRate, now, username);
  const events: LedgerEvent[] = [];
  const existing = user.tokens[token.name];
  if (existing && !reset) {
    throw new DomainError(
      'token_exists',
      `Token "${token.name}" of user ${username} already exists (created ${existing.createdAt}, key ${existing.keyPrefix}…); ` +
        'its key cannot be shown again: use --reset to replace it',
      { username, name: token.name, createdAt: existing.createdAt, keyPrefix: existing.keyPrefix },
    );
  }
  if (existing) events.push(revoked(existing, 'reset', now));
  if (token.kind === 'login' && loginLimit != null && loginLimit > 0) {
    const logins = Object.values(user.tokens)
      // The token a reset replaces is already revoked above: never revoke it twice.
      .filter((t) => t.kind === 'login' && t.name !== token.name && (t.expiresAt === null || t.expiresAt > now))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const old of logins.slice(0, Math.max(0, logins.length - loginLimit + 1))) events.push(revoked(old, 'login limit', now));
  }
  events.push({ type: 'TokenIssued', data: { ...token, at: now } });
  return events;
}

function importedToken(token: NonNullable<ImportedUser['token']>): LedgerEvent {
  const { tokenId, digest, keyPrefix, createdAt } = token;
  return {
    type: 'TokenIssued',
    data: { tokenId, name: IMPORTED_TOKEN_NAME, kind: 'named', format: 'drf', digest, keyPrefix, scopes: [], description: null, expiresAt: null, at: createdAt },
  };
}

/**
 * An imported user, all in one decision (so one append: an import stopped at any point has each
 * user entirely or not at all). A new user is registered at their join date, deactivated when
 * inactive, and given their DRF key's digest as the token `drf` created when DRF created it. An
 * existing user changes only when `overwrite` says so, and then only where they differ.
 */
function decideImport(data: ImportedUser & { now: string }, state: UserState): LedgerEvent[] {
  const { userId, username, active, isStaff, isSuperuser, passwordHash, joinedAt, token, overwrite, now } = data;
  // A deleted user's username stays reserved: an import never revives it.
  if (!state.exists && state.deleted) return [];
  if (!state.exists) {
    return [
      { type: 'UserRegistered', data: { userId, username, isStaff, isSuperuser, passwordHash, at: joinedAt } },
      ...(active ? [] : [{ type: 'UserDeactivated', data: { at: now } } as const]),
      ...(token ? [importedToken(token)] : []),
    ];
  }
  if (overwrite === null) return [];
  const events: LedgerEvent[] = [];
  if (!overwrite.keepPassword && state.passwordHash !== passwordHash) events.push({ type: 'UserPasswordSet', data: { passwordHash, at: now } });
  if (state.isStaff !== isStaff || state.isSuperuser !== isSuperuser) events.push({ type: 'UserFlagsChanged', data: { isStaff, isSuperuser, at: now } });
  if (state.active !== active) events.push(active ? { type: 'UserActivated', data: { at: now } } : { type: 'UserDeactivated', data: { at: now } });
  const existing = state.tokens[IMPORTED_TOKEN_NAME];
  if (existing && existing.digest !== token?.digest) events.push(revoked(existing, token ? 'replaced by import' : 'not in the import', now));
  if (token && existing?.digest !== token.digest) events.push(importedToken(token));
  return events;
}

/** The state as a command at `now` sees it: without the tokens the expiry rule has removed by then. */
export function asOf(state: UserState, now: string): UserState {
  if (!state.exists) return state;
  const nowMs = Date.parse(now);
  let tokens: Record<string, TokenState> | null = null;
  for (const [name, token] of Object.entries(state.tokens)) {
    if (!isGone(leavesAt(token), nowMs)) continue;
    tokens ??= { ...state.tokens };
    delete tokens[name];
  }
  return tokens === null ? state : { ...state, tokens };
}

function leavesAt(token: TokenState): number | null {
  return leavesStateAt(token.expiresAt === null ? null : Date.parse(token.expiresAt));
}

function checkLoginRate(user: PresentUser, rate: LoginRate, now: string, username: string): void {
  const nowMs = Date.parse(now);
  const recent = user.recentLogins.filter((at) => nowMs - Date.parse(at) < rate.windowMs);
  if (recent.length < rate.limit) return;
  // Below the rate again once the login `limit` places from the newest leaves the window.
  const retryAfterMs = Math.max(1, Date.parse(recent[recent.length - rate.limit]!) + rate.windowMs - nowMs);
  throw new DomainError('login_rate', `User ${username} logged in ${recent.length} times within ${rate.windowMs / 1000} s; try again later`, {
    username,
    retryAfterMs,
  });
}

/**
 * A user's state being folded: its own copy of the token map (taken once per fold, not per event)
 * and a queue of when each token leaves the state, so that a fold of n events is O(n log n) in
 * time and its state bounded by the user's live tokens.
 */
interface Draft {
  user: PresentUser;
  due: DueQueue<{ name: string; tokenId: string }>;
}

/**
 * What a fold did, for tests that check its cost by structure rather than by the clock: tokens
 * copied from the starting state (once per fold, never per event) and events applied.
 */
export interface FoldCounts {
  tokensCopied: number;
  eventsApplied: number;
}

function draftOf(user: PresentUser, counts?: FoldCounts): Draft {
  const draft: Draft = { user: { ...user, tokens: { ...user.tokens }, recentLogins: [...user.recentLogins] }, due: new DueQueue() };
  for (const token of Object.values(user.tokens)) schedule(draft, token);
  if (counts) counts.tokensCopied += Object.keys(user.tokens).length;
  return draft;
}

function schedule(draft: Draft, token: TokenState): void {
  const at = leavesAt(token);
  if (at !== null) draft.due.push(at, { name: token.name, tokenId: token.tokenId });
}

function apply(draft: Draft, event: LedgerEvent): void {
  const at = Date.parse(event.data.at);
  const { user } = draft;
  const tokens = user.tokens;
  for (const gone of draft.due.popDue(at)) {
    // A key that no longer names its token (revoked, or reissued under the name) is stale.
    if (tokens[gone.name]?.tokenId === gone.tokenId) delete tokens[gone.name];
  }
  switch (event.type) {
    case 'UserRegistered':
      return;
    case 'UserPasswordSet':
    case 'UserPasswordRehashed':
      user.passwordHash = event.data.passwordHash;
      return;
    case 'UserDeactivated':
      user.active = false;
      return;
    case 'UserActivated':
      user.active = true;
      return;
    case 'UserFlagsChanged':
      user.isStaff = event.data.isStaff;
      user.isSuperuser = event.data.isSuperuser;
      return;
    case 'UserDeleted':
      return; // UserFold ends the user

    case 'TokenIssued': {
      const { at: createdAt, ...token } = event.data;
      const next: TokenState = { ...token, createdAt, lastRotatedAt: null, previous: null };
      tokens[token.name] = next;
      schedule(draft, next);
      if (token.kind === 'login') noteLogin(user.recentLogins, createdAt, at);
      return;
    }
    case 'TokenRotated': {
      const current = tokens[event.data.name];
      if (!current) return;
      const { digest, keyPrefix, previousDigest, graceUntil, at: rotatedAt } = event.data;
      const previous = graceUntil === null ? null : { digest: previousDigest, graceUntil };
      // The token objects are shared with the state the fold started from: replace, never mutate.
      tokens[current.name] = { ...current, digest, keyPrefix, lastRotatedAt: rotatedAt, previous };
      return;
    }
    case 'TokenRevoked':
      delete tokens[event.data.name];
      return;
  }
}

function noteLogin(recent: string[], iso: string, at: number): void {
  recent.push(iso);
  let stale = Math.max(0, recent.length - RECENT_LOGINS_KEPT);
  while (stale < recent.length && at - Date.parse(recent[stale]!) >= RECENT_LOGINS_WINDOW_MS) stale++;
  if (stale > 0) recent.splice(0, stale);
}

function registered(event: Extract<LedgerEvent, { type: 'UserRegistered' }>): Draft {
  const { userId, username, isStaff, isSuperuser, passwordHash, at } = event.data;
  const user: PresentUser = { exists: true, userId, username, active: true, isStaff, isSuperuser, passwordHash, createdAt: at, tokens: {}, recentLogins: [] };
  return { user, due: new DueQueue() };
}

/**
 * A user's state folded event by event, for callers that interleave many users' streams (a walk
 * over the whole log): the state passed in is not changed, and its token map is copied once,
 * when the first event arrives, never per event.
 */
export class UserFold {
  private draft: Draft | null = null;
  /** After UserDeleted: nothing follows a deletion in a stream (the decider refuses), nothing revives it. */
  private deleted: boolean;

  constructor(
    private readonly start: UserState = initialState(),
    private readonly counts?: FoldCounts,
  ) {
    this.deleted = !start.exists && start.deleted === true;
  }

  apply(event: LedgerEvent): void {
    if (this.deleted) return;
    if (event.type === 'UserDeleted') {
      this.deleted = true;
      this.draft = null;
      return;
    }
    if (event.type === 'UserRegistered') this.draft = registered(event);
    else if (this.draft === null && this.start.exists) this.draft = draftOf(this.start, this.counts);
    if (this.draft === null) return;
    apply(this.draft, event);
    if (this.counts) this.counts.eventsApplied++;
  }

  /** The state after the events applied so far; later `apply` calls change it in place. */
  get state(): UserState {
    if (this.deleted) return { exists: false, deleted: true };
    return this.draft === null ? this.start : this.draft.user;
  }
}

/**
 * Folds events, in stream order, into a user's state. Pure (the state passed in is not changed)
 * and linear: the token map is copied once per call, not once per event.
 */
export function fold(state: UserState, events: Iterable<LedgerEvent>, counts?: FoldCounts): UserState {
  const folding = new UserFold(state, counts);
  for (const event of events) folding.apply(event);
  return folding.state;
}

/** Folds one event into the state of a user's stream (a fold of many is `fold`, which copies once). */
export function evolve(state: UserState, event: LedgerEvent): UserState {
  return fold(state, [event]);
}

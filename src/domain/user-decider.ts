import { DomainError } from './errors.js';
import type { LedgerEvent, TokenKind } from './events.js';
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
  /** Live (not revoked) tokens by name. */
  tokens: Record<string, TokenState>;
}

export type UserState = { exists: false } | PresentUser;

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
export function decide(command: UserCommand, state: UserState, username: string): LedgerEvent[] {
  switch (command.type) {
    case 'RegisterUser': {
      if (state.exists) throw new DomainError('user_exists', `User ${username} already exists`, { username });
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
  const { reset, now, loginLimit, ...token } = data;
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

/** Folds one event into the state of a user's stream. */
export function evolve(state: UserState, event: LedgerEvent): UserState {
  if (event.type === 'UserRegistered') {
    const { userId, username, isStaff, isSuperuser, passwordHash, at } = event.data;
    return { exists: true, userId, username, active: true, isStaff, isSuperuser, passwordHash, createdAt: at, tokens: {} };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'UserPasswordSet':
    case 'UserPasswordRehashed':
      return { ...state, passwordHash: event.data.passwordHash };
    case 'UserDeactivated':
      return { ...state, active: false };
    case 'UserActivated':
      return { ...state, active: true };
    case 'UserFlagsChanged':
      return { ...state, isStaff: event.data.isStaff, isSuperuser: event.data.isSuperuser };
    case 'TokenIssued': {
      const { at, ...token } = event.data;
      const next: TokenState = { ...token, createdAt: at, lastRotatedAt: null, previous: null };
      return { ...state, tokens: { ...state.tokens, [token.name]: next } };
    }
    case 'TokenRotated': {
      const current = state.tokens[event.data.name];
      if (!current) return state;
      const { digest, keyPrefix, previousDigest, graceUntil, at } = event.data;
      const previous = graceUntil === null ? null : { digest: previousDigest, graceUntil };
      return { ...state, tokens: { ...state.tokens, [current.name]: { ...current, digest, keyPrefix, lastRotatedAt: at, previous } } };
    }
    case 'TokenRevoked': {
      const { [event.data.name]: _gone, ...rest } = state.tokens;
      return { ...state, tokens: rest };
    }
  }
}

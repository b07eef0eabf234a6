import { DomainError, type UserState } from '../domain/index.js';
import type { Privileges } from './context.js';

/**
 * The privilege rules of every write, whatever the channel (CLI, staff API, admin console). A
 * refusal is a DomainError `permission_denied` (HTTP 403, CLI exit 1) whose message says which
 * rule, never what the target holds.
 *
 * - Staff work (managing users, other users' tokens) needs a staff caller whose token, if scoped,
 *   holds the area's write scope (`users:write`, `tokens:write`).
 * - A caller issues (or rotates) only tokens whose scopes are a subset of its own: an unscoped
 *   token needs an unscoped caller.
 * - Only a superuser creates a staff user or a superuser, changes flags, or acts on the account of
 *   a superuser or of another staff member (password, tokens, activation).
 * - Revoking all of one's own tokens (logoutall) needs an unscoped token or `auth:logoutall`; a
 *   secret in its grace period revokes nothing.
 */
export const LOGOUT_ALL_SCOPE = 'auth:logoutall';

function deny(message: string): never {
  throw new DomainError('permission_denied', message);
}

function holds(caller: Privileges, scope: string): boolean {
  return caller.scopes === null || caller.scopes.includes(scope);
}

/** Staff work in an area (`users`, `tokens`): a staff caller whose scopes, if any, include `<area>:write`. */
export function requireStaff(caller: Privileges, area: 'users' | 'tokens'): void {
  if (!caller.isStaff) deny('You do not have permission to perform this action.');
  if (!holds(caller, `${area}:write`)) deny(`This action needs the ${area}:write scope.`);
}

/** The scopes a new key would carry (empty: unscoped) must be a subset of the caller's. */
export function requireScopesWithin(caller: Privileges, scopes: readonly string[]): void {
  if (caller.scopes === null) return;
  if (scopes.length === 0) deny('A token with scopes cannot issue an unscoped token: name scopes it holds itself.');
  const missing = scopes.filter((s) => !caller.scopes!.includes(s));
  if (missing.length > 0) deny(`A token can only issue scopes it holds itself; it lacks ${missing.join(', ')}.`);
}

/** Creating a staff user or a superuser, or changing flags: superusers only. */
export function requireSuperuser(caller: Privileges, doing: string): void {
  if (!caller.isSuperuser) deny(`Only a superuser can ${doing}.`);
}

/**
 * Acting on an existing account: a superuser's, or another staff member's, needs a superuser.
 * Checked against the state the command is decided on, so a concurrent promotion is seen.
 */
export function requireMayActOn(caller: Privileges, state: UserState, doing: string): void {
  if (caller.isSuperuser || !state.exists) return;
  if (state.isSuperuser) deny(`Only a superuser can ${doing} a superuser.`);
  if (state.isStaff && state.username !== caller.username) deny(`Only a superuser can ${doing} another staff member.`);
}

/** A secret a rotation superseded (still in its grace period) may not revoke anything. */
export function requireCurrentSecret(caller: Privileges): void {
  if (caller.inGrace) deny('A superseded key in its grace period cannot revoke tokens; use the current key.');
}

/**
 * Revoking tokens of `username` (one, or `all`). One's own token: always (Knox's logout). All of
 * one's own: an unscoped token, `auth:logoutall`, or staff work rights (Knox's logoutall).
 * Anyone else's: staff work rights. Never with a secret in its grace period.
 */
export function requireMayRevoke(caller: Privileges, username: string, all: boolean): void {
  requireCurrentSecret(caller);
  if (caller.username !== username) return requireStaff(caller, 'tokens');
  if (!all || holds(caller, LOGOUT_ALL_SCOPE) || (caller.isStaff && holds(caller, 'tokens:write'))) return;
  deny(`Revoking every token needs an unscoped token or the ${LOGOUT_ALL_SCOPE} scope.`);
}

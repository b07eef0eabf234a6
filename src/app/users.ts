import type { PresentUser } from '../domain/index.js';
import { ExecutedBehindError } from './behind.js';
import { sealedLogOf, userStreamOf } from '../eventstore/vault/index.js';
import type { Actor, Caller, LedgerDeps } from './context.js';
import { execute } from './execute.js';
import { hashPassword } from './passwords/index.js';
import { requireMayActOn, requireStaff, requireSuperuser } from './privileges.js';
import type { UserView } from './results.js';
import { parse, usernameSchema } from './validation.js';

export interface RegisterUserInput {
  username: string;
  password: string | null;
  isStaff?: boolean;
  isSuperuser?: boolean;
}

/** A user as it may be shown (see UserView). */
export function userView(user: PresentUser): UserView {
  return {
    userId: user.userId,
    username: user.username,
    active: user.active,
    isStaff: user.isStaff,
    isSuperuser: user.isSuperuser,
    hasPassword: user.passwordHash !== null,
    createdAt: user.createdAt,
    tokens: Object.keys(user.tokens).length,
  };
}

export async function registerUser(deps: LedgerDeps, caller: Caller, input: RegisterUserInput): Promise<UserView> {
  requireStaff(caller, 'users');
  if (input.isStaff || input.isSuperuser) requireSuperuser(caller, 'create a staff user or a superuser');
  const username = parse(usernameSchema, input.username, 'username');
  const passwordHash = input.password === null ? null : await hashPassword(input.password);
  const userId = deps.newId();
  const { state } = await execute(deps, username, caller, (now) => ({
    type: 'RegisterUser',
    data: { userId, username, isStaff: input.isStaff ?? false, isSuperuser: input.isSuperuser ?? false, passwordHash, now },
  }));
  return userView(state as PresentUser);
}

export async function setPassword(deps: LedgerDeps, caller: Caller, username: string, password: string | null): Promise<UserView> {
  requireStaff(caller, 'users');
  const passwordHash = password === null ? null : await hashPassword(password);
  const { state } = await execute(deps, username, caller, (now, current) => {
    requireMayActOn(caller, current, 'set the password of');
    return { type: 'SetPassword', data: { passwordHash, now } };
  });
  return userView(state as PresentUser);
}

/**
 * After a good login against `verified`, an older scheme's string: stores the same password under
 * today's scheme (UserPasswordRehashed). Not a password change, so tokens stay valid. Appends
 * nothing when the stored string is no longer `verified` (changed meanwhile, or a concurrent login
 * re-hashed it first). The log holding it is enough: a projection that is late is not an error here.
 */
export async function rehashPassword(deps: LedgerDeps, actor: Actor, username: string, verified: string, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  try {
    await execute(deps, username, actor, (now) => ({ type: 'RehashPassword', data: { verified, passwordHash, now } }));
  } catch (error) {
    if (!(error instanceof ExecutedBehindError)) throw error;
  }
}

/** Deactivates or activates; doing it twice is not an error (`changed` is then false). */
export async function setActive(
  deps: LedgerDeps,
  caller: Caller,
  username: string,
  active: boolean,
): Promise<{ user: UserView; changed: boolean }> {
  requireStaff(caller, 'users');
  const { state, events } = await execute(deps, username, caller, (now, current) => {
    requireMayActOn(caller, current, active ? 'activate' : 'deactivate');
    return { type: active ? 'ActivateUser' : 'DeactivateUser', data: { now } };
  });
  return { user: userView(state as PresentUser), changed: events.length > 0 };
}

export async function setFlags(
  deps: LedgerDeps,
  caller: Caller,
  username: string,
  flags: { isStaff?: boolean; isSuperuser?: boolean },
): Promise<UserView> {
  requireSuperuser(caller, 'change staff or superuser status');
  const { state } = await execute(deps, username, caller, (now) => ({ type: 'SetUserFlags', data: { ...flags, now } }));
  return userView(state as PresentUser);
}

/**
 * Erases a user (staff; a superuser or another staff member only by a superuser): `UserDeleted`
 * is appended (their tokens die with it, read-your-writes), then every vault key of their stream is
 * shredded, so what was sealed (username, password hashes, addresses, descriptions) never opens
 * again in any copy of the log, and their snapshots are deleted. Deleting a deleted user writes
 * nothing and shreds again, which finishes a delete interrupted between its append and its shred.
 */
export async function deleteUser(deps: LedgerDeps, caller: Caller, username: string): Promise<{ deleted: boolean }> {
  requireStaff(caller, 'users');
  const { events } = await execute(deps, username, caller, (now, current) => {
    requireMayActOn(caller, current, 'delete');
    return { type: 'DeleteUser', data: { now } };
  });
  if (events.length === 0) {
    const streamId = await userStreamOf(deps.store, username);
    await sealedLogOf(deps.store)?.erase(streamId);
    await deps.snapshots?.deleteSnapshots(streamId);
  }
  return { deleted: events.length > 0 };
}

import type { PresentUser } from '../domain/index.js';
import { ExecutedBehindError } from './behind.js';
import type { Actor, LedgerDeps } from './context.js';
import { execute } from './execute.js';
import { hashPassword } from './passwords/index.js';
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

export async function registerUser(deps: LedgerDeps, actor: Actor, input: RegisterUserInput): Promise<UserView> {
  const username = parse(usernameSchema, input.username, 'username');
  const passwordHash = input.password === null ? null : await hashPassword(input.password);
  const userId = deps.newId();
  const { state } = await execute(deps, username, actor, (now) => ({
    type: 'RegisterUser',
    data: { userId, username, isStaff: input.isStaff ?? false, isSuperuser: input.isSuperuser ?? false, passwordHash, now },
  }));
  return userView(state as PresentUser);
}

export async function setPassword(deps: LedgerDeps, actor: Actor, username: string, password: string | null): Promise<UserView> {
  const passwordHash = password === null ? null : await hashPassword(password);
  const { state } = await execute(deps, username, actor, (now) => ({ type: 'SetPassword', data: { passwordHash, now } }));
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
  actor: Actor,
  username: string,
  active: boolean,
): Promise<{ user: UserView; changed: boolean }> {
  const { state, events } = await execute(deps, username, actor, (now) => ({
    type: active ? 'ActivateUser' : 'DeactivateUser',
    data: { now },
  }));
  return { user: userView(state as PresentUser), changed: events.length > 0 };
}

export async function setFlags(
  deps: LedgerDeps,
  actor: Actor,
  username: string,
  flags: { isStaff?: boolean; isSuperuser?: boolean },
): Promise<UserView> {
  const { state } = await execute(deps, username, actor, (now) => ({ type: 'SetUserFlags', data: { ...flags, now } }));
  return userView(state as PresentUser);
}

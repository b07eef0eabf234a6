import { loadUser } from '../app/execute.js';
import type { Console } from './console.js';

export interface UserMatch {
  username: string;
  active: boolean;
}

/**
 * Users whose name starts with `q`, for the token form's user picker. Until the directory read
 * model is there, only the exact name is found (one stream read, never a walk over the log).
 */
export async function findUsers(console: Console, q: string, limit: number): Promise<UserMatch[]> {
  const state = await loadUser(console.deps.ledger.deps, q);
  return state.exists ? [{ username: state.username, active: state.active }].slice(0, limit) : [];
}

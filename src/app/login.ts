import { DomainError, randomBase62, type LoginRate, type PresentUser } from '../domain/index.js';
import type { Actor, LedgerDeps } from './context.js';
import { loadUserStream, type LoadedUser } from './execute.js';
import { verifyPassword } from './passwords/index.js';
import type { IssuedToken } from './results.js';
import { issueTokenUnchecked, keepIssued } from './tokens.js';
import { rehashPassword } from './users.js';
import { usernameSchema } from './validation.js';

export interface LoginInput {
  username: string;
  password: string;
}

export interface LoginPolicy {
  /** Lifetime of a login token in ms; 0: no expiry. */
  ttlMs: number;
  /** Live login tokens per user; issuing one more retires the oldest. null: unlimited. */
  limit: number | null;
  /** The token name before its random part (default `login`; the admin console's sessions: `admin-session`). */
  namePrefix?: string;
  /**
   * Who may log in besides holding an active account and the right password (the admin console:
   * staff only). Checked after the password, so a refusal costs what any failure costs.
   */
  admits?: (user: PresentUser) => boolean;
  /** Successful logins per user per window; one more is refused (429). null: unlimited. */
  rate?: LoginRate | null;
}

/**
 * `ok` with the new token, or why not. `unknown_user`, `bad_password` and `inactive` all look the
 * same to the caller (DRF's "Unable to log in"); they stay apart here only for metrics.
 */
export type LoginResult =
  | { ok: true; issued: IssuedToken }
  | { ok: false; reason: 'unknown_user' | 'bad_password' | 'inactive' | 'not_admitted' }
  /** The right password, but the user's login rate is used up: try again in `retryAfterMs`. */
  | { ok: false; reason: 'rate_limited'; retryAfterMs: number };

const NAME_ATTEMPTS = 3;

/**
 * Knox's login: check the password, then issue a new, separately named login token.
 * Every path runs at least one password verify at the current cost (a dummy one for unknown users
 * and users without a password), so the time a failure takes does not say whether the username exists.
 */
export async function login(deps: LedgerDeps, actor: Actor, input: LoginInput, policy: LoginPolicy): Promise<LoginResult> {
  const { username, password } = input;
  // The write below decides on this same load, so a login folds the user's stream once.
  let loaded: LoadedUser | undefined = usernameSchema.safeParse(username).success ? await loadUserStream(deps, username) : undefined;
  const user = loaded?.state ?? { exists: false as const };
  const { ok: matches, rehash } = await verifyPassword(password, user.exists ? user.passwordHash : null);
  if (!user.exists) return { ok: false, reason: 'unknown_user' };
  if (!matches) return { ok: false, reason: 'bad_password' };
  // Django upgrades the stored hash on any good password, before looking at `is_active`.
  if (rehash) {
    await rehashPassword(deps, { ...actor, actor: username }, username, user.passwordHash!, password);
    loaded = undefined; // the stream moved on: the write loads it again
  }
  // Django's ModelBackend checks the password first and `is_active` after, as we do.
  if (!user.active) return { ok: false, reason: 'inactive' };
  if (policy.admits && !policy.admits(user)) return { ok: false, reason: 'not_admitted' };
  for (let attempt = 1; ; attempt++) {
    // A random name, so that concurrent logins of one user never race for the same name.
    const name = `${policy.namePrefix ?? 'login'}-${randomBase62(deps.random, 10)}`;
    try {
      // The login token is in the log once appended: it is the caller's even if the projection is late.
      const issued = await keepIssued(
        issueTokenUnchecked(
          deps,
          { ...actor, actor: username },
          { username, name, kind: 'login', ttlMs: policy.ttlMs, loginLimit: policy.limit, loginRate: policy.rate ?? null },
          loaded,
        ),
      );
      return { ok: true, issued };
    } catch (error) {
      loaded = undefined;
      if (error instanceof DomainError && error.code === 'login_rate') {
        return { ok: false, reason: 'rate_limited', retryAfterMs: Number(error.details.retryAfterMs) };
      }
      // 62^10 names make a clash all but impossible; should one happen, draw again.
      if ((error as { code?: string }).code !== 'token_exists' || attempt >= NAME_ATTEMPTS) throw error;
    }
  }
}

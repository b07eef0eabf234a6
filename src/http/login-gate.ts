import type { Actor, LedgerDeps } from '../app/context.js';
import { login, type LoginInput, type LoginPolicy, type LoginResult } from '../app/login.js';
import type { PasswordWork } from '../app/passwords/index.js';
import type { LoginThrottle } from './throttle.js';

/**
 * What a guarded login answers: the login's own result, or a refusal made before any password was
 * checked. `throttled`: this address or username used up its attempts, or this address already
 * has its share of password checks running (429). `busy`: the service's password checks are all
 * taken (503).
 */
export type GatedLogin = LoginResult | { ok: false; reason: 'throttled'; waitMs: number } | { ok: false; reason: 'busy' };

/**
 * Every password login of `serve` (the obtain-token endpoint and the admin sign-in) goes through
 * one gate, which holds two bounds at once:
 * - the throttle: an attempt is reserved (per address and per username, atomically) before its
 *   password is checked; it stays as a failure when the password is wrong and is released when the
 *   login succeeds or never reaches a check;
 * - the password work: checks in flight are capped per client address and overall, so a burst
 *   costs at most that many hashes at a time, and the rest are told at once.
 */
export class LoginGate {
  constructor(
    readonly throttle: LoginThrottle | null,
    readonly work: PasswordWork,
  ) {}

  /** Whether this address is over its limit already (checked before reading a body): ms to wait, or 0. */
  async wait(address: string): Promise<number> {
    return this.throttle ? this.throttle.wait(address) : 0;
  }

  async login(deps: LedgerDeps, actor: Actor, address: string, input: LoginInput, policy: LoginPolicy): Promise<GatedLogin> {
    const reservation = this.throttle ? await this.throttle.reserve(address, input.username) : null;
    if (reservation && !reservation.ok) return { ok: false, reason: 'throttled', waitMs: reservation.waitMs };
    const admission = this.work.tryAcquire(address);
    if (!admission.ok) {
      // A flooding address spends its reserved attempt (as a guess would); a full service does not
      // charge the caller, whose attempt never reached a check.
      if (admission.limit === 'per_key') return { ok: false, reason: 'throttled', waitMs: 1_000 };
      await reservation?.release();
      return { ok: false, reason: 'busy' };
    }
    let result: LoginResult;
    try {
      result = await login(deps, actor, input, policy);
    } catch (error) {
      // The store failed before or after the check: this attempt is not held against anyone.
      await reservation?.release().catch(() => {});
      throw error;
    } finally {
      admission.release();
    }
    // A token was issued: a throttle that cannot be reached now keeps the attempt counted rather
    // than taking the token back.
    // So was a login refused only by the user's login rate: its password was right, no guess.
    if (result.ok || result.reason === 'rate_limited') await reservation?.release().catch(() => {});
    return result;
  }
}

import { createHash, randomUUID } from 'node:crypto';

/** A rate: at most `limit` attempts (failed, or still being checked) within any `windowMs`. */
export interface Rate {
  limit: number;
  windowMs: number;
}

/** Where attempt times are kept: process memory, or Redis so that every replica sees them. */
export interface ThrottleStore {
  /** How long (ms) until `key` is below the limit again; 0 when it is below now. Records nothing. */
  wait(key: string, nowMs: number): Promise<number>;
  /**
   * In one atomic step: when every key is below the limit, records `member` at `nowMs` under each
   * and answers 0; otherwise records nothing and answers how long (ms) until all of them are below it.
   */
  reserve(keys: readonly string[], member: string, nowMs: number): Promise<number>;
  /** Takes `member` back from each key (an attempt that succeeded, or never reached a check). */
  release(keys: readonly string[], member: string): Promise<void>;
  /** Throws when the backend cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

interface Attempt {
  at: number;
  member: string;
}

/**
 * A sliding window of attempts per key, checked and recorded in one synchronous step (nothing can
 * run between the check and the record). Memory stays bounded: a key never holds more than
 * `limit` attempts, and stale keys are swept once the map gets large.
 */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly attempts = new Map<string, Attempt[]>();

  constructor(private readonly rate: Rate) {}

  private live(key: string, nowMs: number): Attempt[] {
    const list = (this.attempts.get(key) ?? []).filter((a) => nowMs - a.at < this.rate.windowMs);
    if (list.length === 0) this.attempts.delete(key);
    else this.attempts.set(key, list);
    return list;
  }

  private waitOf(list: Attempt[], nowMs: number): number {
    if (list.length < this.rate.limit) return 0;
    // Below the limit again once the attempt `limit` places from the newest leaves the window.
    return list[list.length - this.rate.limit]!.at + this.rate.windowMs - nowMs;
  }

  async wait(key: string, nowMs: number): Promise<number> {
    return this.waitOf(this.live(key, nowMs), nowMs);
  }

  async reserve(keys: readonly string[], member: string, nowMs: number): Promise<number> {
    const lists = keys.map((key) => this.live(key, nowMs));
    const wait = Math.max(0, ...lists.map((list) => this.waitOf(list, nowMs)));
    if (wait > 0) return wait;
    keys.forEach((key, i) => this.attempts.set(key, [...lists[i]!, { at: nowMs, member }]));
    if (this.attempts.size > 10_000) for (const stale of [...this.attempts.keys()]) this.live(stale, nowMs);
    return 0;
  }

  async release(keys: readonly string[], member: string): Promise<void> {
    for (const key of keys) {
      const left = (this.attempts.get(key) ?? []).filter((a) => a.member !== member);
      if (left.length === 0) this.attempts.delete(key);
      else this.attempts.set(key, left);
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.attempts.clear();
  }
}

/** Keys never hold a username or address in clear (it may be anything a client typed). */
function keyOf(kind: 'user' | 'addr', value: string): string {
  return `${kind}:${createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 22)}`;
}

/** A reserved attempt (`release` it when it succeeded or was never checked), or how long to wait. */
export type Reservation = { ok: true; release: () => Promise<void> } | { ok: false; waitMs: number };

/**
 * The login throttle of SPEC §1: attempts are counted per username and per client address. An
 * attempt is reserved, under both keys at once, before its password is checked, so concurrent
 * guesses cannot all pass a check that only later failures would close. A reservation that ends
 * in a wrong password stays and is the failure; a successful login releases its own. Once either
 * key holds `limit` attempts within the window, every login for it is refused (even one with the
 * right password) until the window has moved past enough of them.
 */
export class LoginThrottle {
  constructor(
    private readonly store: ThrottleStore,
    private readonly clock: () => number,
  ) {}

  /** Milliseconds to wait before the next attempt from this address; 0: go ahead. Reserves nothing. */
  wait(address: string): Promise<number> {
    return this.store.wait(keyOf('addr', address), this.clock());
  }

  async reserve(address: string, username: string): Promise<Reservation> {
    const keys = [keyOf('addr', address), keyOf('user', username)];
    const now = this.clock();
    const member = `${now}:${randomUUID()}`;
    const waitMs = await this.store.reserve(keys, member, now);
    if (waitMs > 0) return { ok: false, waitMs };
    let released = false;
    return {
      ok: true,
      release: async () => {
        if (released) return;
        released = true;
        await this.store.release(keys, member);
      },
    };
  }

  ping(): Promise<void> {
    return this.store.ping();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

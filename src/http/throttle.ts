import { createHash } from 'node:crypto';

/** A rate: at most `limit` failures within any `windowMs`. */
export interface Rate {
  limit: number;
  windowMs: number;
}

/** Where failure times are kept: process memory, or Redis so that every replica sees them. */
export interface ThrottleStore {
  /** How long (ms) until `key` is below the limit again; 0 when it is below now. */
  wait(key: string, nowMs: number): Promise<number>;
  /** Records one failure of `key` at `nowMs`. */
  hit(key: string, nowMs: number): Promise<void>;
  /** Throws when the backend cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A sliding window of failure times per key. Memory stays bounded: a key's list never grows past
 * `limit` entries and stale keys are swept once the map gets large.
 */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly rate: Rate) {}

  private live(key: string, nowMs: number): number[] {
    const times = (this.hits.get(key) ?? []).filter((t) => nowMs - t < this.rate.windowMs);
    if (times.length === 0) this.hits.delete(key);
    else this.hits.set(key, times);
    return times;
  }

  async wait(key: string, nowMs: number): Promise<number> {
    const times = this.live(key, nowMs);
    if (times.length < this.rate.limit) return 0;
    // Below the limit again once the failure `limit` places from the newest leaves the window.
    return times[times.length - this.rate.limit]! + this.rate.windowMs - nowMs;
  }

  async hit(key: string, nowMs: number): Promise<void> {
    const times = this.live(key, nowMs);
    times.push(nowMs);
    this.hits.set(key, times.slice(-this.rate.limit));
    if (this.hits.size > 10_000) for (const stale of [...this.hits.keys()]) this.live(stale, nowMs);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.hits.clear();
  }
}

/** Keys never hold a username in clear (it may be anything a client typed). */
function keyOf(kind: 'user' | 'addr', value: string): string {
  return `${kind}:${createHash('sha256').update(value, 'utf8').digest('base64url').slice(0, 22)}`;
}

/**
 * The failed-login throttle of SPEC §1: failures are counted per username and per client
 * address; once either reached the limit within the window, every login attempt for it is refused
 * (even one with the right password) until the window has moved past enough failures.
 */
export class LoginThrottle {
  constructor(
    private readonly store: ThrottleStore,
    private readonly clock: () => number,
  ) {}

  /** Milliseconds to wait before the next attempt for this address (and username); 0: go ahead. */
  async wait(address: string, username?: string): Promise<number> {
    const now = this.clock();
    const keys = username === undefined ? [keyOf('addr', address)] : [keyOf('addr', address), keyOf('user', username)];
    const waits = await Promise.all(keys.map((key) => this.store.wait(key, now)));
    return Math.max(0, ...waits);
  }

  async fail(address: string, username: string): Promise<void> {
    const now = this.clock();
    await Promise.all([this.store.hit(keyOf('addr', address), now), this.store.hit(keyOf('user', username), now)]);
  }

  ping(): Promise<void> {
    return this.store.ping();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

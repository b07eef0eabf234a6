/** The answer of PasswordWork.tryAcquire: a slot to release when the work ends, or which cap refused it. */
export type Admission = { ok: true; release: () => void } | { ok: false; limit: 'per_key' | 'overall' };

export interface PasswordWorkOptions {
  /** Password checks in flight at once, all keys together. Default: twice libuv's thread pool size. */
  overall?: number;
  /** Password checks in flight at once for one key (the HTTP layer keys by client address). Default 2. */
  perKey?: number;
}

/**
 * libuv's thread pool runs argon2, scrypt and PBKDF2 (UV_THREADPOOL_SIZE, 4 unless set before the
 * pool starts). Twice that keeps every thread busy with one check waiting behind each: an admitted
 * check waits for at most about one other before it runs, and callers past that are told at once.
 */
export function defaultOverall(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return 2 * (Number.isInteger(size) && size >= 1 ? Math.min(size, 1024) : 4);
}

/**
 * Bounds password-hashing work in flight. `tryAcquire` answers at once, never queues: a caller
 * refused by the per-key cap can answer 429 (that client is flooding), by the overall cap 503 (the
 * service is busy). Each admission holds a slot until its `release` is called (once is enough;
 * later calls do nothing), so release in a `finally`.
 */
export class PasswordWork {
  readonly overall: number;
  readonly perKey: number;
  #total = 0;
  readonly #byKey = new Map<string, number>();

  constructor(options: PasswordWorkOptions = {}) {
    this.overall = options.overall ?? defaultOverall();
    this.perKey = options.perKey ?? 2;
    for (const [name, value] of [['overall', this.overall], ['perKey', this.perKey]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`PasswordWork: ${name} must be a whole number ≥ 1, got ${value}`);
    }
  }

  /** Checks in flight now, all keys together. */
  get inFlight(): number {
    return this.#total;
  }

  tryAcquire(key: string): Admission {
    const held = this.#byKey.get(key) ?? 0;
    // The per-key cap first: a client that floods is told so even when the service is also full.
    if (held >= this.perKey) return { ok: false, limit: 'per_key' };
    if (this.#total >= this.overall) return { ok: false, limit: 'overall' };
    this.#byKey.set(key, held + 1);
    this.#total++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = this.#byKey.get(key)! - 1;
      // Keys leave the map when idle, so a stream of distinct addresses does not grow it.
      if (left === 0) this.#byKey.delete(key);
      else this.#byKey.set(key, left);
    };
    return { ok: true, release };
  }
}

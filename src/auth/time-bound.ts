/** Raised (never thrown to callers) when a lookup outlives its time budget. */
export class LookupTimeoutError extends Error {
  constructor(ms: number) {
    super(`projection lookup took longer than ${ms} ms`);
    this.name = 'LookupTimeoutError';
  }
}

/** Lookups begun in one turn of the event loop: they share one timer. */
interface DeadlineGroup {
  waiting: { done: boolean; reject: (error: unknown) => void }[];
  settled: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Bounds lookups in time: each one resolves as its lookup does, or fails with a
 * LookupTimeoutError once `ms` have passed. The lookups begun in one turn of the event loop (a
 * burst of requests) share one timer, started with the first of them. Why: this runs on every
 * request, and a burst then arms and clears one timer instead of one per request. A lookup that fails
 * after we gave up on it is absorbed here, so it never becomes an unhandled rejection.
 */
export function timeBound(ms: number): <T>(promise: Promise<T>) => Promise<T> {
  let current: DeadlineGroup | null = null;
  const expire = (group: DeadlineGroup) => {
    if (current === group) current = null;
    for (const entry of group.waiting) if (!entry.done) entry.reject(new LookupTimeoutError(ms));
  };
  return <T>(promise: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let group = current;
      if (group === null) {
        const fresh: DeadlineGroup = { waiting: [], settled: 0, timer: null };
        fresh.timer = setTimeout(() => expire(fresh), ms);
        setImmediate(() => {
          if (current === fresh) current = null;
          if (fresh.settled === fresh.waiting.length) clearTimeout(fresh.timer!);
        });
        group = current = fresh;
      }
      const entry = { done: false, reject };
      group.waiting.push(entry);
      const settle = () => {
        entry.done = true;
        group.settled += 1;
        // Everyone answered, and no one else can join once the turn is over: the timer can go.
        if (group.settled === group.waiting.length && current !== group) clearTimeout(group.timer!);
      };
      promise.then(
        (value) => (settle(), resolve(value)),
        (error) => (settle(), reject(error)),
      );
    });
}

/** Raised (never thrown to callers) when a lookup outlives its time budget. */
export class LookupTimeoutError extends Error {
  constructor(ms: number) {
    super(`projection lookup took longer than ${ms} ms`);
    this.name = 'LookupTimeoutError';
  }
}

/**
 * An answer passed on through a callback: `(undefined, value)` in time, `(cause)` with no value
 * for a failure (a LookupTimeoutError when the bound passed first).
 */
export type Answer<V> = (cause: unknown, value?: V) => void;

/** One bounded lookup's callback, once joined to its turn's deadline. */
interface Waiter {
  done: boolean;
  answer: Answer<never>;
}

/** Lookups begun in one turn of the event loop: they share one timer. */
interface DeadlineGroup {
  waiting: Waiter[];
  settled: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Bounds lookups in time, callback style: `bound(answer)` returns the callback to hand to the
 * lookup. An answer inside the bound goes on to `answer` as it is; once `ms` have passed, `answer`
 * gets `(LookupTimeoutError)` instead, and the lookup's own answer after that is dropped (a lookup
 * that fails after we gave up on it never surfaces). `answer` is called exactly once. A value of
 * `undefined` means a failure, so the lookups bounded here answer with anything else (a record or null).
 *
 * The lookups begun in one turn of the event loop (a burst of requests) share one timer, started
 * with the first of them. Why: this runs on every request, and a burst then arms and clears one
 * timer instead of one per request.
 */
export function timeBoundCallbacks(ms: number): <V>(answer: Answer<V>) => Answer<V> {
  let current: DeadlineGroup | null = null;
  const expire = (group: DeadlineGroup) => {
    if (current === group) current = null;
    for (const waiter of group.waiting) {
      if (waiter.done) continue;
      waiter.done = true;
      try {
        waiter.answer(new LookupTimeoutError(ms));
      } catch (error) {
        // Reported as a throwing promise reaction would be; the group's other lookups still expire.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
  return <V>(answer: Answer<V>): Answer<V> => {
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
    const waiter: Waiter = { done: false, answer };
    group.waiting.push(waiter);
    const joined = group;
    return (cause, value) => {
      if (waiter.done) return;
      waiter.done = true;
      joined.settled += 1;
      // Everyone answered, and no one else can join once the turn is over: the timer can go.
      if (joined.settled === joined.waiting.length && current !== joined) clearTimeout(joined.timer!);
      answer(cause, value);
    };
  };
}

/**
 * The promise form of `timeBoundCallbacks`: each promise resolves as its lookup does, or fails
 * with a LookupTimeoutError once `ms` have passed; the lookups begun in one turn share one timer.
 * A lookup that fails after we gave up on it is absorbed here, so it never becomes an unhandled rejection.
 */
export function timeBound(ms: number): <T>(promise: Promise<T>) => Promise<T> {
  const bound = timeBoundCallbacks(ms);
  return <T>(promise: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      // Boxed, so that a promise of `undefined` is not taken for a failure.
      const settle = bound<{ value: T }>((cause, box) => (box === undefined ? reject(cause) : resolve(box.value)));
      promise.then(
        (value) => settle(undefined, { value }),
        (error: unknown) => settle(error),
      );
    });
}

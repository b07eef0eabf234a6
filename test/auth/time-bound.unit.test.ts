import { afterEach, describe, expect, it, vi } from 'vitest';
import { LookupTimeoutError, timeBound } from '../../src/auth/time-bound.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const after = <T>(ms: number, value: T, fail = false) =>
  new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error('late failure')) : resolve(value)), ms));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('timeBound', () => {
  it('answers as the promise does, inside the bound', async () => {
    const bounded = timeBound(200);
    await expect(bounded(after(5, 'record'))).resolves.toBe('record');
    const cause = new Error('redis down');
    await expect(bounded(Promise.reject(cause))).rejects.toBe(cause);
  });

  it('fails with LookupTimeoutError once the bound has passed, without waiting for the promise', async () => {
    const bounded = timeBound(20);
    const started = Date.now();
    await expect(bounded(after(300, 'too late'))).rejects.toBeInstanceOf(LookupTimeoutError);
    expect(Date.now() - started).toBeLessThan(250);
  });

  it('absorbs a failure that comes after the bound: never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listen = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listen);
    try {
      await expect(timeBound(10)(after(40, null, true))).rejects.toBeInstanceOf(LookupTimeoutError);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listen);
    }
  });

  it('arms one timer for the lookups of one turn, and one more for a later turn', async () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const bounded = timeBound(1_000);
    const burst = [bounded(after(5, 1)), bounded(after(5, 2)), bounded(after(5, 3))];
    const armed = () => timers.mock.calls.filter(([, ms]) => ms === 1_000).length;
    expect(armed()).toBe(1);
    await turn();
    const later = bounded(after(5, 4));
    expect(armed()).toBe(2);
    await expect(Promise.all([...burst, later])).resolves.toEqual([1, 2, 3, 4]);
  });

  it('lets the timer go once every lookup of the turn has answered', async () => {
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    const bounded = timeBound(60_000);
    const answers = Promise.all([bounded(Promise.resolve('a')), bounded(after(5, 'b'))]);
    const timer = timers.mock.results[timers.mock.calls.findIndex(([, ms]) => ms === 60_000)]!.value;
    expect(cleared).not.toHaveBeenCalledWith(timer);
    await answers;
    await turn();
    expect(cleared).toHaveBeenCalledWith(timer);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { LookupTimeoutError, timeBound, timeBoundCallbacks } from '../../src/auth/time-bound.js';

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

describe('timeBoundCallbacks', () => {
  it('passes an answer inside the bound on as it is, once; a second answer is dropped', async () => {
    const bound = timeBoundCallbacks(200);
    const calls: unknown[][] = [];
    const answer = bound<string>((...args) => calls.push(args));
    answer(undefined, 'record');
    answer(new Error('again'));
    const cause = new Error('redis down');
    bound<string>((...args) => calls.push(args))(cause);
    expect(calls).toEqual([[undefined, 'record'], [cause, undefined]]);
  });

  it('answers (LookupTimeoutError) once the bound has passed, and drops the lookup\'s own late answer', async () => {
    const bound = timeBoundCallbacks(20);
    const calls: unknown[][] = [];
    const answer = bound<string>((...args) => calls.push(args));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBeInstanceOf(LookupTimeoutError);
    expect(calls[0]![1]).toBeUndefined();
    answer(undefined, 'too late');
    answer(new Error('late failure'));
    expect(calls).toHaveLength(1);
  });

  it('a callback that throws on expiry does not keep the turn\'s other lookups from expiring; its error is not swallowed', async () => {
    const rethrown: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => void rethrown.push(task));
    try {
      const bound = timeBoundCallbacks(10);
      const expired: unknown[] = [];
      bound(() => {
        throw new Error('an adapter bug');
      });
      bound((cause) => expired.push(cause));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(expired).toHaveLength(1);
      expect(expired[0]).toBeInstanceOf(LookupTimeoutError);
      expect(rethrown).toHaveLength(1);
      expect(rethrown[0]).toThrow('an adapter bug');
    } finally {
      spy.mockRestore();
    }
  });

  it('timeBound (the promise form) resolves a promise of undefined, and does not take it for a failure', async () => {
    await expect(timeBound(200)(Promise.resolve(undefined))).resolves.toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { LoginThrottle, MemoryThrottleStore } from '../../src/http/throttle.js';

describe('MemoryThrottleStore: a sliding window of attempts, reserved atomically', () => {
  const rate = { limit: 3, windowMs: 10_000 };

  it('waits until the attempt `limit` places from the newest leaves the window', async () => {
    const store = new MemoryThrottleStore(rate);
    for (const t of [0, 2_000, 4_000]) expect(await store.reserve(['k'], `m${t}`, t)).toBe(0);
    expect(await store.reserve(['k'], 'over', 4_000)).toBe(6_000);
    expect(await store.wait('k', 9_999)).toBe(1);
    expect(await store.wait('k', 10_000)).toBe(0);
    // One more at 10 s: the window holds 2 000, 4 000, 10 000 again.
    expect(await store.reserve(['k'], 'm10000', 10_000)).toBe(0);
    expect(await store.wait('k', 10_000)).toBe(2_000);
  });

  it('reserves under every key or under none', async () => {
    const store = new MemoryThrottleStore(rate);
    for (let i = 0; i < 3; i++) await store.reserve(['full'], `f${i}`, 0);
    expect(await store.reserve(['free', 'full'], 'x', 1)).toBe(9_999);
    // The refused reservation left nothing under the key that had room.
    expect(await store.wait('free', 1)).toBe(0);
    for (let i = 0; i < 3; i++) expect(await store.reserve(['free'], `g${i}`, 1)).toBe(0);
    expect(await store.wait('free', 1)).toBe(10_000);
  });

  it('a released reservation no longer counts', async () => {
    const store = new MemoryThrottleStore(rate);
    for (let i = 0; i < 3; i++) await store.reserve(['a', 'b'], `m${i}`, 0);
    expect(await store.wait('a', 0)).toBe(10_000);
    await store.release(['a', 'b'], 'm1');
    expect(await store.wait('a', 0)).toBe(0);
    expect(await store.wait('b', 0)).toBe(0);
  });

  it('keeps keys apart and forgets what left the window', async () => {
    const store = new MemoryThrottleStore(rate);
    for (let i = 0; i < 3; i++) await store.reserve(['a'], `m${i}`, i);
    expect(await store.wait('b', 10)).toBe(0);
    expect(await store.wait('a', 20_000)).toBe(0);
  });
});

describe('LoginThrottle', () => {
  it('refuses when either the address or the username is out of attempts; a released attempt gives one back', async () => {
    let now = 0;
    const throttle = new LoginThrottle(new MemoryThrottleStore({ limit: 2, windowMs: 60_000 }), () => now);
    expect((await throttle.reserve('10.0.0.1', 'alice')).ok).toBe(true);
    expect((await throttle.reserve('10.0.0.2', 'alice')).ok).toBe(true);
    expect(await throttle.wait('10.0.0.3')).toBe(0);
    expect(await throttle.reserve('10.0.0.3', 'alice')).toEqual({ ok: false, waitMs: 60_000 });
    const bob = await throttle.reserve('10.0.0.1', 'bob');
    expect(bob.ok).toBe(true);
    expect(await throttle.wait('10.0.0.1')).toBe(60_000);
    if (bob.ok) await bob.release();
    expect(await throttle.wait('10.0.0.1')).toBe(0);
    now = 60_000;
    expect((await throttle.reserve('10.0.0.1', 'alice')).ok).toBe(true);
  });
});

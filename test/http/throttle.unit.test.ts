import { describe, expect, it } from 'vitest';
import { LoginThrottle, MemoryThrottleStore } from '../../src/http/throttle.js';

describe('MemoryThrottleStore: a sliding window of failures', () => {
  const rate = { limit: 3, windowMs: 10_000 };

  it('waits until the failure `limit` places from the newest leaves the window', async () => {
    const store = new MemoryThrottleStore(rate);
    for (const t of [0, 2_000, 4_000]) await store.hit('k', t);
    expect(await store.wait('k', 4_000)).toBe(6_000);
    expect(await store.wait('k', 9_999)).toBe(1);
    expect(await store.wait('k', 10_000)).toBe(0);
    // One more failure at 10 s: the window holds 2 000, 4 000, 10 000 again.
    await store.hit('k', 10_000);
    expect(await store.wait('k', 10_000)).toBe(2_000);
  });

  it('keeps keys apart and forgets what left the window', async () => {
    const store = new MemoryThrottleStore(rate);
    for (let i = 0; i < 5; i++) await store.hit('a', i);
    expect(await store.wait('b', 10)).toBe(0);
    expect(await store.wait('a', 20_000)).toBe(0);
  });
});

describe('LoginThrottle', () => {
  it('refuses when either the address or the username is over the limit', async () => {
    let now = 0;
    const throttle = new LoginThrottle(new MemoryThrottleStore({ limit: 2, windowMs: 60_000 }), () => now);
    await throttle.fail('10.0.0.1', 'alice');
    await throttle.fail('10.0.0.2', 'alice');
    expect(await throttle.wait('10.0.0.3')).toBe(0);
    expect(await throttle.wait('10.0.0.3', 'alice')).toBe(60_000);
    expect(await throttle.wait('10.0.0.1', 'bob')).toBe(0);
    await throttle.fail('10.0.0.1', 'bob');
    expect(await throttle.wait('10.0.0.1')).toBe(60_000);
    now = 60_000;
    expect(await throttle.wait('10.0.0.1', 'alice')).toBe(0);
  });
});

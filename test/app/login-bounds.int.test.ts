import { afterEach, describe, expect, it } from 'vitest';
import { login, type LoginPolicy } from '../../src/app/login.js';
import { loadSettings } from '../../src/config.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { TEST_ACTOR, tempLedger } from './ledger-fixture.js';

let fixture: ReturnType<typeof tempLedger>;
afterEach(() => fixture.dispose());

const defaults = loadSettings({}, {});
const policy: LoginPolicy = { ttlMs: defaults.loginTtlMs, limit: defaults.loginLimit, rate: defaults.loginRate };

/** The real SQLite store, counting the stream reads that pass through it. */
function countingReads(store: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  const counted = Object.create(store) as EventStore;
  counted.readStream = (...args: Parameters<EventStore['readStream']>) => {
    reads++;
    return store.readStream(...args);
  };
  return { store: counted, reads: () => reads };
}

const liveLogins = async () => (await fixture.ledger.listTokens({ user: 'carol', limit: 500 })).results.filter((t) => t.kind === 'login');

describe('a login costs one load of the user, and a user cannot pile up login tokens', () => {
  it('reads (and folds) the user\'s stream once per login, not once to check and again to write', async () => {
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'carol', password: 'pw-carol-123' });
    const { store, reads } = countingReads(fixture.store);
    const deps = { ...fixture.ledger.deps, store };
    const result = await login(deps, TEST_ACTOR, { username: 'carol', password: 'pw-carol-123' }, policy);
    expect(result.ok).toBe(true);
    expect(reads()).toBe(1);
  });

  it('by default keeps at most 20 live login tokens: each login past them retires the oldest', async () => {
    expect(defaults.loginLimit).toBe(20);
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'carol', password: 'pw-carol-123' });
    const keys: string[] = [];
    for (let i = 0; i < 25; i++) {
      fixture.advance(10_000); // 6 a minute: under the default rate
      const result = await login(fixture.ledger.deps, TEST_ACTOR, { username: 'carol', password: 'pw-carol-123' }, policy);
      if (!result.ok) throw new Error(`login ${i}: ${result.reason}`);
      keys.push(result.issued.token.name);
    }
    const live = await liveLogins();
    expect(live).toHaveLength(20);
    expect(live.map((t) => t.name).sort()).toEqual(keys.slice(5).sort());
  });

  it('by default refuses a 21st successful login within a minute, saying when to come back', async () => {
    expect(defaults.loginRate).toEqual({ limit: 20, windowMs: 60_000 });
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'carol', password: 'pw-carol-123' });
    const attempt = () => login(fixture.ledger.deps, TEST_ACTOR, { username: 'carol', password: 'pw-carol-123' }, policy);
    for (let i = 0; i < 20; i++) {
      fixture.advance(1_000);
      expect((await attempt()).ok).toBe(true);
    }
    fixture.advance(1_000); // 21 s after the first of the 20
    const refused = await attempt();
    expect(refused).toEqual({ ok: false, reason: 'rate_limited', retryAfterMs: 40_000 });
    expect(await liveLogins()).toHaveLength(20);
    fixture.advance(40_000);
    expect((await attempt()).ok).toBe(true);
  });
});

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { openBackends, type Backends } from '../../src/http/backends.js';
import { createLogger } from '../../src/http/logging.js';
import { RedisThrottleStore } from '../../src/http/throttle-redis.js';
import { LoginThrottle, MemoryThrottleStore, type ThrottleStore } from '../../src/http/throttle.js';
import { REDIS_URL, dropPrefix, startService } from './harness.js';

/**
 * The 6th failed login in the window gets 429 with Retry-After; the right password during
 * the lockout still gets 429; it clears after the window. The throttle's clock is the test's, so
 * the default window (5/min) is tested as is, without waiting a minute.
 */
const RATE = { limit: 5, windowMs: 60_000 };

interface Reply {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** A login from a given loopback address (127.0.0.x), so one test can be several clients. */
function loginFrom(url: string, from: string, username: string, password: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const req = request(`${url}/api-token-auth/`, { method: 'POST', localAddress: from, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const throttled = (seconds: number) =>
  JSON.stringify({ detail: `Request was throttled. Expected available in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.` });

describe.each(['memory', 'redis'] as const)('login throttle in %s', (kind) => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  let backends: Backends;
  let server: Server;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'tl-throttle-'));
  const prefix = `tltest:throttle:${randomUUID()}:`;
  let redis: Redis | undefined;

  beforeAll(async () => {
    const settings = { ...loadSettings({}, {}), store: `sqlite:${join(dir, 'events.db')}`, loginThrottle: RATE };
    const logger = createLogger(new Writable({ write: (_c, _e, done) => done() }));
    backends = await openBackends(settings, logger);
    let store: ThrottleStore = new MemoryThrottleStore(RATE);
    if (kind === 'redis') {
      redis = new Redis(REDIS_URL);
      store = new RedisThrottleStore(redis, prefix, RATE);
    }
    const app = createApp({ ...backends, settings, logger, throttle: new LoginThrottle(store, () => now) });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const username of ['alice', 'bob']) await backends.ledger.registerUser({ username, password: `pw-${username}` });
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await backends.close();
    redis?.disconnect();
    await dropPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('locks a username after 5 failures (from any addresses), until the window moves on', async () => {
    for (let i = 2; i <= 6; i++) {
      const reply = await loginFrom(url, `127.0.0.${i}`, 'alice', 'wrong');
      expect(reply.status).toBe(400);
      now += 1_000;
    }
    // The 6th failure within the minute, from a 6th address: the username is locked.
    const sixth = await loginFrom(url, '127.0.0.7', 'alice', 'wrong');
    expect([sixth.status, sixth.body, sixth.retryAfter]).toEqual([429, throttled(55), '55']);
    const right = await loginFrom(url, '127.0.0.8', 'alice', 'pw-alice');
    expect([right.status, right.body, right.retryAfter]).toEqual([429, throttled(55), '55']);
    // Other users are not locked by alice's failures.
    expect((await loginFrom(url, '127.0.0.9', 'bob', 'pw-bob')).status).toBe(200);
    // Just before the oldest failure leaves the window: DRF's singular.
    now += 54_500;
    expect((await loginFrom(url, '127.0.0.8', 'alice', 'pw-alice')).body).toBe(throttled(1));
    now += 500;
    const after = await loginFrom(url, '127.0.0.8', 'alice', 'pw-alice');
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body).token).toMatch(/^tl_/);
  });

  it('locks an address after 5 failures (for any usernames), and only that address', async () => {
    now += 120_000;
    for (const username of ['u1', 'u2', 'nobody', 'bob', 'alice']) {
      expect((await loginFrom(url, '127.0.0.20', username, 'wrong')).status).toBe(400);
    }
    const locked = await loginFrom(url, '127.0.0.20', 'bob', 'pw-bob');
    expect([locked.status, locked.retryAfter]).toEqual([429, '60']);
    // Bob and alice have one failure each: from another address they log in.
    expect((await loginFrom(url, '127.0.0.21', 'bob', 'pw-bob')).status).toBe(200);
    now += 60_000;
    expect((await loginFrom(url, '127.0.0.20', 'bob', 'pw-bob')).status).toBe(200);
  });
});

describe('the serve runtime wires the throttle from the settings', () => {
  it.each([false, true])('redis: %s; a successful login is not counted', async (redis) => {
    const svc = await startService({ loginThrottle: { limit: 2, windowMs: 60_000 } }, { redis });
    try {
      await svc.ledger.registerUser({ username: 'alice', password: 'pw-alice' });
      const attempt = (password: string) => loginFrom(svc.url, '127.0.0.1', 'alice', password);
      expect((await attempt('pw-alice')).status).toBe(200);
      expect((await attempt('wrong')).status).toBe(400);
      expect((await attempt('wrong')).status).toBe(400);
      const third = await attempt('pw-alice');
      expect(third.status).toBe(429);
      expect(Number(third.retryAfter)).toBeGreaterThan(50);
    } finally {
      await svc.close();
    }
  });

  it('off: failures are never throttled', async () => {
    const svc = await startService({ loginThrottle: null });
    try {
      await svc.ledger.registerUser({ username: 'alice', password: 'pw-alice' });
      for (let i = 0; i < 6; i++) expect((await loginFrom(svc.url, '127.0.0.1', 'alice', 'wrong')).status).toBe(400);
      expect((await loginFrom(svc.url, '127.0.0.1', 'alice', 'pw-alice')).status).toBe(200);
    } finally {
      await svc.close();
    }
  });
});

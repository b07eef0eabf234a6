import { afterAll, beforeAll, expect, it } from 'vitest';
import { PrivateRedis } from '../koa/redis-server.js';
import { call, loginKey, startService, type Service } from './harness.js';

/**
 * A Redis outage under traffic logs one line per change of state, not one stack per request: a
 * private redis-server is stopped, 200 requests (lookups and logins) are fired, Redis comes back,
 * and the warnings and errors in the log are counted.
 */
let redis: PrivateRedis;
let svc: Service;
let key: string;

beforeAll(async () => {
  redis = await PrivateRedis.start();
  svc = await startService({ redisUrl: redis.url, redisPrefix: 'tl:', loginThrottle: { limit: 1000, windowMs: 60_000 } }, {});
  await svc.ledger.registerUser({ username: 'alice', password: 'Alice-Pass-123' });
  key = await loginKey(svc.url, 'alice', 'Alice-Pass-123');
});
afterAll(async () => {
  await redis?.stop();
  await svc?.close();
});

const level = (line: string) => (JSON.parse(line) as { level: number }).level;

it('200 requests during a Redis outage: a handful of lines, each once per change of state', async () => {
  const before = svc.logs.length;
  await redis.stop();
  const statuses: number[] = [];
  for (let i = 0; i < 200; i++) {
    const reply =
      i % 4 === 3
        ? await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'alice', password: 'Alice-Pass-123' } })
        : await call(`${svc.url}/api/whoami/`, { token: key });
    statuses.push(reply.status);
  }
  expect(statuses.filter((s) => s === 503).length).toBe(200);
  await redis.start();
  let status = 0;
  for (let i = 0; i < 200 && status !== 200; i++) {
    status = (await call(`${svc.url}/api/whoami/`, { token: key })).status;
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(status).toBe(200);
  expect((await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'alice', password: 'Alice-Pass-123' } })).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 2_500));

  const lines = svc.logs.slice(before).filter((line) => level(line) >= 40);
  // One "failing" line per source (lookups, request path, projector); nowhere near one per request.
  expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(4);
  expect(lines.some((line) => line.includes('"stack"'))).toBe(false);
  const recovered = svc.logs.slice(before).filter((line) => line.includes('recovered'));
  expect(recovered.length).toBeGreaterThanOrEqual(1);
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, loginKey, startService, type Service } from './harness.js';

/** The service on the Redis projection (own key prefix): login, whoami, logout, logoutall, readiness. */
let svc: Service;
beforeAll(async () => {
  svc = await startService({}, { redis: true });
  await svc.ledger.registerUser({ username: 'alice', password: 'pw-alice' });
  await svc.ledger.registerUser({ username: 'bob', password: 'pw-bob' });
});
afterAll(() => svc.close());

const whoami = (key: string) => call(`${svc.url}/api/whoami/`, { token: key });

it('logs in, and logout / logoutall are visible on the very next request', async () => {
  const ready = await call(`${svc.url}/readyz`);
  expect([ready.status, ready.json.status]).toEqual([200, 'ready']);
  const [a1, a2, bob] = [await loginKey(svc.url, 'alice', 'pw-alice'), await loginKey(svc.url, 'alice', 'pw-alice'), await loginKey(svc.url, 'bob', 'pw-bob')];
  expect((await whoami(a1)).json.username).toBe('alice');
  expect((await call(`${svc.url}/auth/logout/`, { method: 'POST', token: a1 })).status).toBe(204);
  expect((await whoami(a1)).json).toEqual({ detail: 'Invalid token.' });
  expect((await whoami(a2)).status).toBe(200);
  expect((await call(`${svc.url}/auth/logoutall/`, { method: 'POST', token: a2 })).status).toBe(204);
  expect((await whoami(a2)).status).toBe(401);
  expect((await whoami(bob)).status).toBe(200);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, loginKey, startService, type Reply, type Service } from './harness.js';

/**
 * A shared cache or a browser must not keep a key: every response that carries one says
 * `Cache-Control: no-store` (RFC 6749 §5.1) and `Pragma: no-cache`; and no response may be
 * sniffed into another type: every one says `X-Content-Type-Options: nosniff`.
 */
let svc: Service;
let staff: string;
beforeAll(async () => {
  svc = await startService();
  await svc.ledger.registerUser({ username: 'root', password: 'Root-Pass-123', isStaff: true, isSuperuser: true });
  await svc.ledger.registerUser({ username: 'alice', password: 'Alice-Pass-123' });
  staff = await loginKey(svc.url, 'root', 'Root-Pass-123');
});
afterAll(() => svc?.close());

const noStore = (reply: Reply) => [reply.headers.get('cache-control'), reply.headers.get('pragma')];

describe('responses that carry a key are never stored', () => {
  it('login, staff token create and rotate', async () => {
    const login = await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'alice', password: 'Alice-Pass-123' } });
    expect(login.status).toBe(200);
    expect(noStore(login)).toEqual(['no-store', 'no-cache']);
    const created = await call(`${svc.url}/api/tokens/`, { method: 'POST', token: staff, json: { username: 'alice', name: 'ci' } });
    expect(created.status).toBe(201);
    expect(noStore(created)).toEqual(['no-store', 'no-cache']);
    const rotated = await call(`${svc.url}/api/tokens/alice/ci/rotate/`, { method: 'POST', token: staff, json: {} });
    expect(rotated.status).toBe(200);
    expect(noStore(rotated)).toEqual(['no-store', 'no-cache']);
  });
});

describe('every response says nosniff', () => {
  it('successes, refusals, errors, unknown paths, health and metrics', async () => {
    const replies = await Promise.all([
      call(`${svc.url}/healthz`),
      call(`${svc.url}/readyz`),
      call(`${svc.url}/metrics`),
      call(`${svc.url}/nowhere/`),
      call(`${svc.url}/api/whoami/`),
      call(`${svc.url}/api/whoami/`, { token: staff }),
      call(`${svc.url}/api/whoami/`, { token: 'tl_bogus' }),
      call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'alice', password: 'wrong' } }),
      call(`${svc.url}/api-token-auth/`, { method: 'POST', body: '{', headers: { 'Content-Type': 'application/json' } }),
      call(`${svc.url}/api-token-auth/`, { method: 'GET' }),
      call(`${svc.url}/api/users/`, { method: 'OPTIONS', token: staff }),
      call(`${svc.url}/api/users/`, { token: staff }),
    ]);
    for (const reply of replies) expect([reply.status, reply.headers.get('x-content-type-options')]).toEqual([reply.status, 'nosniff']);
  });
});

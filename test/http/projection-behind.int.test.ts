import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../koa/redis-server.js';
import { call, loginKey, startService, type Service } from './harness.js';

/**
 * Redis that answers reads but refuses writes (min-replicas-to-write without replicas): lookups
 * work, so requests get in, but the projection cannot take the write a request makes.
 */
describe('a new key whose projection update fails is still the caller’s', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let svc: Service;
  let staffKey: string;
  const refuseWrites = (on: boolean) => admin.config('SET', 'min-replicas-to-write', on ? '1' : '0');

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    admin = new Redis(redis.url);
    svc = await startService({ redisUrl: redis.url, redisPrefix: 'tl:' });
    await svc.ledger.registerUser({ username: 'admin', password: 'admin-pw-1', isStaff: true });
    staffKey = await loginKey(svc.url, 'admin', 'admin-pw-1');
    await refuseWrites(true);
  });
  afterAll(async () => {
    await refuseWrites(false).catch(() => undefined);
    await svc?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  it('staff token create answers 201 with the key, which the log knows and which works once Redis takes writes', async () => {
    const created = await call(`${svc.url}/api/tokens/`, { method: 'POST', token: staffKey, json: { username: 'admin', name: 'ci' } });
    expect(created.status).toBe(201);
    const { key, token } = created.json as { key: string; token: { name: string } };
    expect(token.name).toBe('ci');
    expect((await svc.ledger.verifyKey(key)).outcome).toBe('valid');
    // Not in the projection yet: Redis refuses the write.
    expect((await call(`${svc.url}/api/whoami/`, { token: key })).status).toBe(401);

    await refuseWrites(false);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await call(`${svc.url}/api/whoami/`, { token: key })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    await refuseWrites(true);
  });

  it('a login answers 200 with its token; a write without a key answers 503 with Retry-After', async () => {
    const login = await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'admin', password: 'admin-pw-1' } });
    expect(login.status).toBe(200);
    expect((await svc.ledger.verifyKey((login.json as { token: string }).token)).outcome).toBe('valid');

    const revoked = await call(`${svc.url}/api/tokens/admin/ci/`, { method: 'DELETE', token: staffKey });
    expect(revoked.status).toBe(503);
    expect(revoked.headers.get('retry-after')).not.toBeNull();
  });
});

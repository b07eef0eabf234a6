import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../koa/redis-server.js';
import { call, loginKey, startService, type Reply, type Service } from './harness.js';

/**
 * The adversary reads the service's log. Every error path that logs is provoked: writes whose
 * projection update fails (user create, set password, token create, rotate, revoke, logout,
 * logoutall, deactivate, login), the projector's own failing rounds, and lookups while Redis is
 * gone. Then the whole log is searched, byte for byte, for password hashes, digests, keys and
 * passwords. A Redis that answers reads but refuses writes (min-replicas-to-write without
 * replicas) lets requests in and makes each write's projection update fail.
 */
const PASSWORDS = ['Root-Pass-123', 'Alice-Pass-123', 'Bob-Pass-123', 'Alice-New-456'];

let redis: PrivateRedis;
let admin: Redis;
let svc: Service;
const keys = new Set<string>();
const refuseWrites = (on: boolean) => admin.config('SET', 'min-replicas-to-write', on ? '1' : '0');

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the projection did not catch up');
}

/** One write while Redis refuses writes; then Redis takes them again and the projection catches up. */
async function failingWrite(send: () => Promise<Reply>, root: string): Promise<Reply> {
  await refuseWrites(true);
  try {
    const reply = await send();
    if (reply.json?.key) keys.add(reply.json.key);
    if (reply.json?.token && typeof reply.json.token === 'string') keys.add(reply.json.token);
    return reply;
  } finally {
    await refuseWrites(false);
    await until(async () => (await call(`${svc.url}/api/whoami/`, { token: root })).status === 200);
  }
}

beforeAll(async () => {
  redis = await PrivateRedis.start();
  admin = new Redis(redis.url);
  svc = await startService({ redisUrl: redis.url, redisPrefix: 'tl:', loginThrottle: null });
  await svc.ledger.registerUser({ username: 'root', password: 'Root-Pass-123', isStaff: true, isSuperuser: true });
  await svc.ledger.registerUser({ username: 'alice', password: 'Alice-Pass-123' });
  for (const name of ['default', 'laptop', 'phone']) keys.add((await svc.ledger.issueToken({ username: 'alice', name })).key);
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
  await svc?.close();
});

describe('no secret reaches the log on any error path', () => {
  it('provokes every logged error path', async () => {
    const root = await loginKey(svc.url, 'root', 'Root-Pass-123');
    const alice = await loginKey(svc.url, 'alice', 'Alice-Pass-123');
    keys.add(root).add(alice);
    const as = (token: string) => (path: string, init: RequestInit & { json?: unknown } = {}) => () => call(`${svc.url}${path}`, { token, ...init });
    const r = as(root);
    const statuses: number[] = [];
    for (const send of [
      r('/api/users/', { method: 'POST', json: { username: 'bob', password: 'Bob-Pass-123' } }),
      r('/api/users/alice/password/', { method: 'POST', json: { password: 'Alice-New-456' } }),
      r('/api/tokens/', { method: 'POST', json: { username: 'alice', name: 'ci' } }),
      r('/api/tokens/alice/ci/rotate/', { method: 'POST', json: { grace: '10m' } }),
      r('/api/tokens/alice/phone/', { method: 'DELETE' }),
      r('/api/users/bob/deactivate/', { method: 'POST' }),
      () => call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'alice', password: 'Alice-New-456' } }),
      as(alice)('/auth/logout/', { method: 'POST' }),
      as([...keys][0]!)('/auth/logoutall/', { method: 'POST' }),
    ]) {
      statuses.push((await failingWrite(send, root)).status);
    }
    // Writes that lose their projection update answer 503 (or the new key, which exists nowhere else).
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(5);
    expect(svc.logs.some((line) => line.includes('"request failed"'))).toBe(true);
    expect(svc.logs.some((line) => line.includes('projector'))).toBe(true);

    // Lookups with Redis gone.
    admin.disconnect();
    await redis.stop();
    for (let i = 0; i < 5; i++) expect((await call(`${svc.url}/api/whoami/`, { token: root })).status).toBe(503);
  });

  it('the log holds no password hash, digest, key or password', () => {
    const log = svc.logs.join('\n');
    expect(log.length).toBeGreaterThan(1000);
    for (const marker of ['$argon2', '$scrypt$', 'pbkdf2_', 'passwordHash', '"digest', 'previousDigest', 'droppedDigests']) {
      expect(log.includes(marker), marker).toBe(false);
    }
    for (const key of keys) {
      expect(log.includes(key), 'a key').toBe(false);
      expect(log.includes(createHash('sha256').update(key).digest('hex')), 'a digest').toBe(false);
    }
    for (const password of PASSWORDS) expect(log.includes(password), 'a password').toBe(false);
    // No 64-hex value at all (digests, event hashes).
    expect(log.match(/[0-9a-f]{64}/)).toBeNull();
  });
});

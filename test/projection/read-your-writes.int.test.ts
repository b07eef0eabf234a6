import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/app/ledger.js';
import { loadSettings, type Settings } from '../../src/config.js';
import { digestKey } from '../../src/domain/index.js';
import { openProjection } from '../../src/projection/open.js';
import { ProjectionUnavailableError } from '../../src/projection/port.js';
import { deleteKeys, openRedisStore, rawRedis, REDIS_URL, uniquePrefix } from './helpers/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-ryw-'));
const prefixes: string[] = [];
afterAll(async () => {
  const raw = rawRedis();
  for (const prefix of prefixes) await deleteKeys(raw, prefix);
  await raw.quit();
  rmSync(dir, { recursive: true, force: true });
});

function settings(name: string, env: Record<string, string> = {}): Settings {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  return loadSettings({}, { TOKENLEDGER_STORE: `sqlite:${join(dir, `${name}.db`)}`, TOKENLEDGER_REDIS_PREFIX: prefix, ...env });
}

describe('read-your-writes through the Ledger API', () => {
  it('with Redis: every write returns once Redis reflects it, with no projector running anywhere', async () => {
    const config = settings('redis', { TOKENLEDGER_REDIS_URL: REDIS_URL });
    const ledger = await openLedger({ settings: config });
    const reader = await openRedisStore(config.redisPrefix);
    try {
      await ledger.registerUser({ username: 'alice', password: null });
      const first = await ledger.issueToken({ username: 'alice' });
      expect(await reader.lookup(digestKey(first.key))).toMatchObject({ username: 'alice', active: true });

      const reset = await ledger.issueToken({ username: 'alice', reset: true });
      expect(await reader.lookup(digestKey(first.key))).toBeNull();
      expect(await reader.lookup(digestKey(reset.key))).not.toBeNull();

      await ledger.deactivateUser('alice');
      expect(await reader.lookup(digestKey(reset.key))).toMatchObject({ active: false });
      await ledger.activateUser('alice');

      const rotated = await ledger.rotateToken({ username: 'alice', grace: '10m' });
      expect(await reader.lookup(digestKey(reset.key))).toMatchObject({ graceUntil: expect.any(Number) });
      expect(await reader.lookup(digestKey(rotated.key))).toMatchObject({ active: true, graceUntil: null });

      await ledger.revokeToken({ username: 'alice' });
      expect(await reader.lookup(digestKey(rotated.key))).toBeNull();
      expect(await reader.lookup(digestKey(reset.key))).toBeNull();
      expect(await reader.checkpoint()).toBe(await ledger.store.headPosition());
    } finally {
      await reader.close();
      await ledger.close();
    }
  });

  it('with a server runtime: writes wait for that runtime\'s projector (memory)', async () => {
    const config = settings('memory');
    const runtime = await openProjection(config);
    const ledger = await openLedger({ settings: config, projection: runtime });
    try {
      await ledger.registerUser({ username: 'bob', password: null });
      const { key } = await ledger.issueToken({ username: 'bob' });
      expect(await runtime.store.lookup(digestKey(key))).toMatchObject({ username: 'bob' });
      await ledger.revokeToken({ username: 'bob' });
      expect(await runtime.store.lookup(digestKey(key))).toBeNull();
    } finally {
      await ledger.close();
      await runtime.close();
    }
  });

  it('with Redis down: the write is in the log and the error says so, and reads of the log still work', async () => {
    const config = settings('down', { TOKENLEDGER_REDIS_URL: 'redis://127.0.0.1:1' });
    const ledger = await openLedger({ settings: config });
    try {
      const error = await ledger.registerUser({ username: 'carol', password: null }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProjectionUnavailableError);
      expect((error as Error).message).toMatch(/^TOKENLEDGER_REDIS_URL: .*the change is recorded in the log/);
      expect((await ledger.listUsers()).results.map((u) => u.username)).toEqual(['carol']);
    } finally {
      await ledger.close();
    }
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { appendHistory } from '../../bench/rebuild-history.mjs';
import { Projector } from '../../src/projection/projector.js';
import { rebuildProjection } from '../../src/projection/rebuild.js';
import type { RedisProjectionStore } from '../../src/projection/redis/store.js';
import { tempLedger } from '../app/ledger-fixture.js';
import { deleteKeys, openRedisStore, rawRedis, uniquePrefix } from './helpers/redis.js';
import { comparable, expectedRecords } from './helpers/stores.js';

const raw = rawRedis();
const prefixes: string[] = [];
const opened: RedisProjectionStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.close();
  for (const prefix of prefixes) await deleteKeys(raw, prefix);
  await raw.quit();
});

async function storeOn(prefix: string): Promise<RedisProjectionStore> {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const store = await openRedisStore(prefix);
  opened.push(store);
  return store;
}

/** What a rebuild from scratch into a fresh prefix gives for the same log. */
async function freshRebuild(fixture: ReturnType<typeof tempLedger>) {
  const store = await storeOn(uniquePrefix('fresh'));
  await rebuildProjection(fixture.store, store);
  return comparable(await store.dump());
}

describe('projectors running at once', () => {
  it('three projectors following one log while it grows end equal to a rebuild', async () => {
    const fixture = tempLedger();
    const prefix = uniquePrefix('three');
    const projectors = await Promise.all(
      [7, 13, 50].map(async (batchSize) => new Projector(fixture.store, await storeOn(prefix), { batchSize, pollMs: 2 })),
    );
    try {
      for (const projector of projectors) projector.start();
      for (let round = 0; round < 6; round++) {
        await appendHistory(fixture.store, { users: 12, prefix: `r${round}-` });
        await new Promise((r) => setTimeout(r, 20));
      }
      await fixture.ledger.deactivateUser('r0-1');
      for (const projector of projectors) await projector.stop();
      await projectors[0]!.catchUp();
      const live = comparable(await projectors[0]!.projection.dump());
      expect(live.checkpoint).toBe(await fixture.store.headPosition());
      expect(live).toEqual(await freshRebuild(fixture));
    } finally {
      await fixture.dispose();
    }
  });

  it('a rebuild under traffic: valid tokens answer throughout, changes made meanwhile survive the switch', async () => {
    const fixture = tempLedger();
    const prefix = uniquePrefix('no-outage');
    const live = new Projector(fixture.store, await storeOn(prefix), { pollMs: 2 });
    const reader = await storeOn(prefix);
    try {
      await appendHistory(fixture.store, { users: 100 });
      await live.catchUp();
      live.start();
      const before = (await live.projection.dump()).records;
      const revoked = [...before].filter(([, r]) => r.username === 'u3').map(([digest]) => digest);
      const stable = [...before].filter(([, r]) => r.username !== 'u3' && r.graceUntil === null).map(([digest]) => digest);
      expect(stable.length).toBeGreaterThan(300);

      let lookups = 0;
      let missing = 0;
      let rebuilding = true;
      const traffic = (async () => {
        while (rebuilding) {
          for (const digest of stable.slice(0, 50)) {
            lookups += 1;
            if ((await reader.lookup(digest)) === null) missing += 1;
          }
        }
      })();
      const rebuild = rebuildProjection(fixture.store, await storeOn(prefix), { readBatch: 100, flushEvery: 200 });
      await new Promise((r) => setTimeout(r, 30));
      await fixture.ledger.revokeToken({ username: 'u3', all: true });
      await rebuild;
      await live.catchUp();
      rebuilding = false;
      await traffic;

      expect(lookups).toBeGreaterThan(0);
      expect(missing).toBe(0);
      for (const digest of revoked) expect(await reader.lookup(digest)).toBeNull();
      for (const digest of stable) expect(await reader.lookup(digest)).not.toBeNull();
      // Generation 1: the projector's own first build (the store was empty); 2: the rebuild.
      expect(await raw.get(`${prefix}gen`)).toBe('2');
      const after = comparable(await live.projection.dump());
      expect(after).toEqual(await freshRebuild(fixture));
      expect(Object.keys(after.records).sort()).toEqual(Object.keys(await expectedRecords(fixture.store)).sort());
    } finally {
      await live.stop();
      await fixture.dispose();
    }
  });
});

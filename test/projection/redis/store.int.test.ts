import { afterAll, describe, expect, it } from 'vitest';
import { digestKey } from '../../../src/domain/index.js';
import { ProjectionGapError, ProjectionUnavailableError } from '../../../src/projection/port.js';
import { rebuildProjection } from '../../../src/projection/rebuild.js';
import { tempLedger } from '../../app/ledger-fixture.js';
import { PrivateRedis } from '../../koa/redis-server.js';
import { Projector } from '../../../src/projection/projector.js';
import { RedisProjectionStore } from '../../../src/projection/redis/store.js';
import { REDIS_URL, deleteKeys, openRedisStore, openStartedStore, rawRedis, uniquePrefix } from '../helpers/redis.js';

const raw = rawRedis();
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(raw, prefix);
  await raw.quit();
});

function prefixFor(tag: string): string {
  const prefix = uniquePrefix(tag);
  prefixes.push(prefix);
  return prefix;
}

async function timed<T>(work: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = performance.now();
  const [result] = await Promise.allSettled([work]);
  return { ms: performance.now() - started, result: result! };
}

describe('Redis projection store', () => {
  it('keeps every key under the configured prefix and finds a key by its sha256', async () => {
    const fixture = tempLedger();
    const prefix = prefixFor('layout');
    const store = await openRedisStore(prefix);
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      const { key } = await fixture.ledger.issueToken({ username: 'alice', scopes: ['tokens:read'] });
      await store.apply(await fixture.store.readAll());
      expect(await store.lookup(digestKey(key))).toMatchObject({ username: 'alice', name: 'default', scopes: ['tokens:read'], active: true });
      expect(await store.lookup(digestKey(`${key}x`))).toBeNull();
      const keys = (await raw.keys(`${prefix}*`)).map((k) => k.slice(prefix.length)).sort();
      expect(keys).toEqual(['g1:checkpoint', `g1:t:${digestKey(key)}`, 'g1:u:alice', 'gen', 'gen:next']);
      // The key itself is nowhere in Redis, only its digest.
      for (const k of await raw.keys(`${prefix}*`)) expect(`${k} ${await raw.get(k)}`).not.toContain(key);
    } finally {
      await store.close();
      await fixture.dispose();
    }
  });

  it('answers from the value Redis holds now: a changed value is decoded again, a corrupt one fails only its own lookup', async () => {
    const fixture = tempLedger();
    const prefix = prefixFor('values');
    const store = await openRedisStore(prefix);
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      await fixture.ledger.registerUser({ username: 'bob', password: null });
      const alice = digestKey((await fixture.ledger.issueToken({ username: 'alice' })).key);
      const bob = digestKey((await fixture.ledger.issueToken({ username: 'bob' })).key);
      await store.apply(await fixture.store.readAll());
      const recordKey = `${prefix}g1:t:${alice}`;
      const stored = (await raw.get(recordKey))!;
      expect(await store.lookup(alice)).toMatchObject({ username: 'alice', active: true });

      // Written behind the store's back, as a projector in another process would: flags 0 = inactive.
      await raw.set(recordKey, stored.replace(/,1,/, ',0,'));
      expect(await store.lookup(alice)).toMatchObject({ username: 'alice', active: false });

      await raw.set(recordKey, '{not json');
      const [corrupt, fine] = await Promise.allSettled([store.lookup(alice), store.lookup(bob)]);
      expect(corrupt).toMatchObject({ status: 'rejected', reason: expect.any(ProjectionUnavailableError) });
      expect((corrupt as PromiseRejectedResult).reason.message).toMatch(/corrupt record .*projection rebuild/);
      expect(fine).toMatchObject({ status: 'fulfilled', value: { username: 'bob' } });

      await raw.set(recordKey, stored);
      expect(await store.lookup(alice)).toMatchObject({ username: 'alice', active: true });
      await raw.del(recordKey);
      expect(await store.lookup(alice)).toBeNull();
    } finally {
      await store.close();
      await fixture.dispose();
    }
  });

  it('reads a key asked for by several lookups of one batch once, and answers each lookup with its own digest', async () => {
    const fixture = tempLedger();
    const prefix = prefixFor('distinct');
    const store = await openRedisStore(prefix);
    const monitor = await raw.monitor();
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      await fixture.ledger.registerUser({ username: 'bob', password: null });
      const alice = digestKey((await fixture.ledger.issueToken({ username: 'alice' })).key);
      const bob = digestKey((await fixture.ledger.issueToken({ username: 'bob' })).key);
      const nobody = digestKey('no such key');
      await store.apply(await fixture.store.readAll());
      const sent: string[][] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'mget' && args[1]?.startsWith(prefix)) sent.push(args.slice(1));
      });
      // One turn, so one batch: alice three times, bob twice, one unknown digest in between.
      const asked = [alice, bob, alice, nobody, bob, alice];
      const answers = await Promise.all(asked.map((digest) => store.lookup(digest)));
      expect(answers.map((record) => record?.username ?? null)).toEqual(['alice', 'bob', 'alice', null, 'bob', 'alice']);
      // MONITOR shows a command once Redis ran it; a PING through the monitored client comes after.
      await raw.ping();
      await new Promise((done) => setTimeout(done, 50));
      expect(sent).toHaveLength(1);
      const records = sent[0]!.filter((name) => name.startsWith(`${prefix}g1:t:`)).map((name) => name.slice(`${prefix}g1:t:`.length));
      expect(records).toEqual([alice, bob, nobody]);
    } finally {
      monitor.disconnect();
      await store.close();
      await fixture.dispose();
    }
  });

  it('lets Redis drop what can no longer let anyone in: secrets past their grace, tokens a week past expiry', async () => {
    const fixture = tempLedger(Date.now() - 8 * 86_400_000);
    const prefix = prefixFor('expiry');
    const store = await openRedisStore(prefix);
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      const old = await fixture.ledger.issueToken({ username: 'alice' });
      const fresh = await fixture.ledger.rotateToken({ username: 'alice', grace: '10m' });
      const expiredLongAgo = await fixture.ledger.issueToken({ username: 'alice', name: 'short', expiresIn: '1h' });
      const expiring = await fixture.ledger.issueToken({ username: 'alice', name: 'long', expiresIn: '30d' });
      await store.apply(await fixture.store.readAll());
      expect(await store.lookup(digestKey(old.key))).toBeNull();
      expect(await store.lookup(digestKey(expiredLongAgo.key))).toBeNull();
      expect(await store.lookup(digestKey(fresh.key))).not.toBeNull();
      expect(await raw.pttl(`${prefix}g1:t:${digestKey(fresh.key)}`)).toBe(-1);
      const ttl = await raw.pttl(`${prefix}g1:t:${digestKey(expiring.key)}`);
      expect(ttl).toBeGreaterThan(28 * 86_400_000);
    } finally {
      await store.close();
      await fixture.dispose();
    }
  });

  it('fails a lookup fast when Redis is down or hung; back empty, it stays unavailable until rebuilt, without reopening', async () => {
    const redis = await PrivateRedis.start();
    const fixture = tempLedger();
    const store = await openRedisStore('tl:', redis.url);
    const projector = new Projector(fixture.store, store);
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      const { key } = await fixture.ledger.issueToken({ username: 'alice' });
      const digest = digestKey(key);
      await expect(store.lookup(digest)).rejects.toThrow(/is empty \(new, or Redis lost its data\)/);
      await projector.catchUp();
      expect(await store.lookup(digest)).not.toBeNull();

      redis.pause();
      const hung = await timed(store.lookup(digest));
      expect(hung.result.status === 'rejected' && hung.result.reason).toBeInstanceOf(ProjectionUnavailableError);
      expect(hung.ms).toBeLessThan(1_000);
      redis.resume();
      expect(await store.lookup(digest)).not.toBeNull();

      await redis.stop();
      const down = await timed(store.lookup(digest));
      expect(down.result.status === 'rejected' && down.result.reason).toBeInstanceOf(ProjectionUnavailableError);
      expect(down.ms).toBeLessThan(1_000);
      await expect(projector.catchUp()).rejects.toBeInstanceOf(ProjectionUnavailableError);

      // Back without its data: never "not found" (a misleading 401), unavailable until rebuilt.
      await redis.start();
      let answer: unknown;
      for (let i = 0; i < 100; i++) {
        answer = await store.lookup(digest).catch((e: unknown) => e);
        if (answer instanceof ProjectionUnavailableError && /is empty/.test(answer.message)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(String(answer)).toMatch(/is empty/);
      // The projector's connection reconnects on its own schedule: retry as its follow loop would.
      for (let i = 0; i < 100 && !(await projector.catchUp().then(() => true, () => false)); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await store.lookup(digest)).toMatchObject({ username: 'alice' });
    } finally {
      await store.close();
      await redis.stop();
      await fixture.dispose();
    }
  });

  it('refuses to open on an unreachable Redis with one line naming the setting', async () => {
    const error = await openRedisStore('tl:', 'redis://127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionUnavailableError);
    expect((error as Error).message).toMatch(/^TOKENLEDGER_REDIS_URL: cannot connect to Redis at 127\.0\.0\.1:1 /);
  });

  it('never switches to a rebuild that is behind the live projection', async () => {
    const fixture = tempLedger();
    const prefix = prefixFor('behind');
    const store = await openStartedStore(prefix);
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      const build = await store.beginRebuild();
      const log = await fixture.store.readAll();
      await store.apply(log);
      expect(await build.commit()).toBe(false);
      expect(await raw.get(`${prefix}gen`)).toBe('1');
      await build.apply(log);
      expect(await build.commit()).toBe(true);
      expect(await raw.get(`${prefix}gen`)).toBe('2');
      expect(await raw.keys(`${prefix}g1:*`)).toEqual([]);
      expect(await store.checkpoint()).toBe(log.at(-1)!.position);
    } finally {
      await store.close();
      await fixture.dispose();
    }
  });

  it('an empty store takes only the log from its start; a batch that skips events is refused', async () => {
    const fixture = tempLedger();
    const prefix = prefixFor('empty');
    const store = await openRedisStore(prefix);
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      await fixture.ledger.registerUser({ username: 'bob', password: null });
      const log = await fixture.store.readAll();
      expect(await store.isEmpty()).toBe(true);
      await expect(store.apply(log.slice(1), log[0]!.position)).rejects.toThrow(/is empty/);
      await store.apply(log.slice(0, 1), 0n);
      expect(await store.isEmpty()).toBe(false);
      await expect(store.apply(log.slice(1), log[1]!.position)).rejects.toBeInstanceOf(ProjectionGapError);
      expect(await store.checkpoint()).toBe(log[0]!.position);

      await store.clear();
      expect(await store.isEmpty()).toBe(true);
      expect(await store.checkpoint()).toBe(0n);
      expect(await raw.keys(`${prefix}g[0-9]*:*`)).toEqual([]);
      // A projector that was half way when the store was cleared starts again from the start.
      await new Projector(fixture.store, store).catchUp();
      expect((await store.dump()).docs.size).toBe(2);
    } finally {
      await store.close();
      await fixture.dispose();
    }
  });

  it('drops the generation of a rebuild that died, at the next rebuild', async () => {
    const fixture = tempLedger();
    const prefix = prefixFor('orphan');
    const store = await openRedisStore(prefix);
    try {
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      await fixture.ledger.issueToken({ username: 'alice' });
      const dead = await store.beginRebuild();
      await dead.apply(await fixture.store.readAll());
      // The builder is gone: its lease runs out (here: at once).
      await raw.del(`${prefix}g1:lease`);
      expect(await raw.keys(`${prefix}g1:*`)).not.toEqual([]);
      await rebuildProjection(fixture.store, store);
      expect(await raw.keys(`${prefix}g1:*`)).toEqual([]);
      expect(await raw.get(`${prefix}gen`)).toBe('2');
      expect((await store.dump()).records.size).toBe(1);
    } finally {
      await store.close();
      await fixture.dispose();
    }
  });

  it('a lookup Redis answered before an apply of this process is not "behind" when its reply is read after the apply (a race, not a stale Redis)', async () => {
    // The fuzz suite's one 503 under load (FUZZ_SEED=745541878): the lookup's MGET ran in Redis
    // before the in-process projector's apply script, but the apply's reply was handled first and
    // raised the "seen" floor, so the older checkpoint in the MGET's reply read as Redis gone back
    // in time. Forced here by holding the lookup connection's reply until the apply has returned.
    const fixture = tempLedger();
    const prefix = prefixFor('race');
    const store = await RedisProjectionStore.open({ url: REDIS_URL, prefix, lookupTimeoutMs: 5_000 });
    try {
      await store.beginRebuild().then((build) => build.commit());
      await fixture.ledger.registerUser({ username: 'alice', password: null });
      const alice = digestKey((await fixture.ledger.issueToken({ username: 'alice' })).key);
      const first = await fixture.store.readAll();
      await store.apply(first);
      expect(await store.lookup(alice)).toMatchObject({ username: 'alice' });

      await fixture.ledger.issueToken({ username: 'alice', name: 'second' });
      const all = await fixture.store.readAll();
      const later = all.slice(first.length);
      const socket = (store as unknown as { reader: { stream: { pause(): void; resume(): void } } }).reader.stream;
      const looked = store.lookup(alice);
      // The MGET goes out in the batcher's setImmediate; hold its reply in the socket.
      await new Promise((resolve) => setImmediate(resolve));
      socket.pause();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store.apply(later, first.at(-1)!.position);
      socket.resume();
      expect(await looked).toMatchObject({ username: 'alice' });
      // A checkpoint really behind what this process applied still fails closed (review L1).
      const [checkpointKey] = await raw.keys(`${prefix}g*:checkpoint`);
      await raw.set(checkpointKey!, String(first.at(-1)!.position));
      await expect(store.lookup(alice)).rejects.toThrow(/behind/);
    } finally {
      await store.close();
      await fixture.dispose();
    }
  });

  it('never puts the password of the URL in an error', async () => {
    const error = await openRedisStore('tl:', 'redis://:s3cret-pass@127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionUnavailableError);
    expect((error as Error).message).not.toContain('s3cret-pass');
  });
});

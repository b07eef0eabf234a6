import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { generateKey } from '../../src/domain/token-format.js';
import { openProjection, type ProjectionRuntime } from '../../src/projection/open.js';
import { tempLedger, testPrefix } from '../koa/fixtures.js';
import { get, type Listening } from '../koa/http.js';
import { PrivateRedis } from '../koa/redis-server.js';
import { whoamiServer, type Framework } from './servers.js';

/**
 * Against a redis-server of its own, which it can count, freeze and kill: the offline checksum
 * check, and failing closed while Redis is gone, then healing without a restart. One test file per
 * adapter runs it (test/{koa,express,fastify}/redis-failclosed.int.test.ts), with the same expectations.
 */
export async function failClosedSuite(framework: Framework): Promise<void> {
  const fx = await tempLedger();
  let redis: PrivateRedis;
  let runtime: ProjectionRuntime;
  let server: Listening;
  let control: Redis;
  let key: string;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    await fx.ledger.registerUser({ username: 'alice', password: null });
    key = (await fx.ledger.issueToken({ username: 'alice' })).key;
    const settings = loadSettings({ store: fx.url, redisUrl: redis.url }, { TOKENLEDGER_REDIS_PREFIX: testPrefix('failclosed') });
    // The server's own projector, as `serve` runs it: it also refills a Redis that came back empty.
    runtime = await openProjection(settings, { events: fx.store, pollMs: 50 });
    await runtime.projector.catchUp();
    runtime.projector.start();
    server = await whoamiServer(framework, runtime.store);
    control = new Redis(redis.url);
    control.on('error', () => {}); // it reconnects by itself after the restart
  });

  afterAll(async () => {
    // Redis first: nothing needs it any more, and closing the rest never waits on a dead server.
    await redis?.stop();
    control?.disconnect();
    await server?.close();
    await runtime?.close();
    await fx.dispose();
  });

  /** Calls per command since the server started, without INFO's own. */
  async function commandCounts(): Promise<Record<string, number>> {
    const info = await control.info('commandstats');
    const counts: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (match[1] !== 'info') counts[match[1]!] = Number(match[2]);
    return counts;
  }

  const whoami = (authorization: string) => get(server, '/api/whoami/', authorization);

  describe('a tl_ key with a wrong checksum', () => {
    it('is refused without any Redis command, while a well-formed unknown key costs one lookup', async () => {
      await runtime.projector.stop(); // its polling reads the checkpoint from Redis: keep the count ours
      try {
        const wrong = key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x');
        const before = await commandCounts();
        const reply = await whoami(`Token ${wrong}`);
        expect(reply).toMatchObject({ status: 401, body: '{"detail":"Invalid token."}' });
        expect(await commandCounts()).toEqual(before);

        const unknown = generateKey('tl', 'tl', (n) => randomBytes(n));
        expect((await whoami(`Token ${unknown}`)).status).toBe(401);
        const after = await commandCounts();
        const added = Object.keys(after).reduce((sum, name) => sum + after[name]! - (before[name] ?? 0), 0);
        expect(added).toBe(1);
      } finally {
        runtime.projector.start();
      }
    });
  });

  interface Shot {
    start: number;
    end: number;
    status: number;
  }

  /** `workers` clients requesting back to back until `stop()`; every answer is kept. */
  function traffic(workers: number) {
    const shots: Shot[] = [];
    let running = true;
    const loops = Array.from({ length: workers }, async () => {
      while (running) {
        const start = Date.now();
        const { status } = await whoami(`Token ${key}`);
        shots.push({ start, end: Date.now(), status });
      }
    });
    return {
      shots,
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function until200(deadlineMs: number): Promise<number[]> {
    const seen: number[] = [];
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      const { status } = await whoami(`Token ${key}`);
      seen.push(status);
      if (status === 200) return seen;
      await sleep(20);
    }
    return seen;
  }

  describe('Redis gone under traffic', () => {
    /** Statuses seen after the restart, until the first 200. */
    let recovery: number[] = [];

    it('killed: 503 within 1 s, never a 200; back (empty): 200 again without restarting the app', async () => {
      const load = traffic(4);
      await sleep(300);
      const killing = Date.now();
      await redis.stop();
      const killed = Date.now();
      await sleep(1_500);
      await load.stop();

      expect(load.shots.filter((s) => s.end < killing && s.status !== 200)).toEqual([]);
      const after = load.shots.filter((s) => s.start >= killed);
      expect(after.length).toBeGreaterThan(10);
      expect(after.filter((s) => s.status !== 503)).toEqual([]);
      // Requests in flight while it died may still have been answered from Redis; none waits 1 s.
      const late = load.shots.filter((s) => s.end >= killing && s.end - Math.max(s.start, killing) >= 1_000);
      expect(late).toEqual([]);

      // Restarted without persistence: the server's projector refills it.
      await redis.start();
      recovery = await until200(10_000);
      expect(recovery.at(-1)).toBe(200);
    });

    it('while the projector refills a Redis that came back empty, a valid key gets 503, not a misleading 401', () => {
      expect(recovery.length).toBeGreaterThan(0);
      expect(recovery.filter((status) => status !== 503 && status !== 200)).toEqual([]);
    });

    it('frozen (SIGSTOP): lookups time out into 503 within 1 s; thawed: 200 again', async () => {
      const load = traffic(4);
      await sleep(200);
      redis.pause();
      const frozen = Date.now();
      await sleep(1_500);
      const during = load.shots.filter((s) => s.start >= frozen);
      redis.resume();
      await load.stop();

      expect(during.length).toBeGreaterThan(4);
      expect(during.filter((s) => s.status !== 503)).toEqual([]);
      expect(during.filter((s) => s.end - s.start >= 1_000)).toEqual([]);
      expect((await until200(5_000)).at(-1)).toBe(200);
    });
  });
}

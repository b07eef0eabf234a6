import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendHistory } from '../../../bench/rebuild-history.mjs';
import { loadSettings } from '../../../src/config.js';
import { SqliteEventStore } from '../../../src/eventstore/sqlite.js';
import { createLogger } from '../../../src/http/logging.js';
import { serve } from '../../../src/http/serve.js';
import { MESSAGES } from '../../../src/koa/index.js';
import { openProjection, type ProjectionRuntime } from '../../../src/projection/open.js';
import { ProjectionUnavailableError } from '../../../src/projection/port.js';
import { Projector } from '../../../src/projection/projector.js';
import { rebuildProjection } from '../../../src/projection/rebuild.js';
import { RedisProjectionStore } from '../../../src/projection/redis/store.js';
import { tempLedger as appLedger } from '../../app/ledger-fixture.js';
import { tempLedger as koaLedger, whoamiApp } from '../../koa/fixtures.js';
import { get, listen, type Listening } from '../../koa/http.js';
import { sparePort } from '../../koa/redis-server.js';
import { historyArb, runHistory } from '../helpers/history.js';
import { comparable, expectedRecords, withoutPositions } from '../helpers/stores.js';
import { drfRows, drfScenario } from './cluster-drf.js';
import { PrivateCluster } from './cluster-nodes.js';

/*
 * A 3-master Redis Cluster of our own (redis-server on spare ports,
 * `redis-cli --cluster create`), with the projector and the middleware on it.
 */
let cluster: PrivateCluster;
beforeAll(async () => {
  cluster = await PrivateCluster.start(3);
}, 30_000);
afterAll(() => cluster?.stop());

let tags = 0;
/** A hash-tagged prefix of its own: every key of one projection in one slot, projections apart. */
const tagged = (what: string) => `{tl-${what}-${++tags}-${process.pid}}:`;

describe('the projector and the middleware on a Redis Cluster', () => {
  let keys: Record<string, string> = {};
  let fx: Awaited<ReturnType<typeof koaLedger>>;
  let runtime: ProjectionRuntime;
  let server: Listening;

  beforeAll(async () => {
    fx = await koaLedger();
    keys = await drfScenario(fx.ledger, fx.at);
    // The settings a deployment would have: only the URL names the cluster.
    const settings = loadSettings({ store: fx.url }, { TOKENLEDGER_REDIS_URL: cluster.url });
    expect(settings.redisPrefix).toBe('{tokenledger}:');
    runtime = await openProjection(settings, { events: fx.store });
    await runtime.projector.catchUp();
    server = await listen(whoamiApp(runtime.store));
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.close();
    await fx?.dispose();
  });

  it('passes the DRF compatibility cases', async () => {
    for (const [label, authorization, status, expected, path = '/api/whoami/'] of drfRows(keys)) {
      const reply = await get(server, path, authorization);
      const body = status === 200 ? JSON.stringify({ username: expected }) : JSON.stringify({ detail: expected });
      expect(`${label}: ${reply.status} ${reply.body}`).toBe(`${label}: ${status} ${body}`);
      expect(reply.headers['www-authenticate'], label).toBe(status === 401 ? 'Token' : undefined);
    }
  });

  it('answers each lookup with one MGET on the master of the projection slot: no redirect, no second command', async () => {
    const owner = await cluster.ownerOf('{tokenledger}:gen');
    const before = await cluster.calls('mget');
    const N = 25;
    for (let i = 0; i < N; i++) expect((await get(server, '/api/whoami/', `Token ${keys.alice}`)).status).toBe(200);
    const after = await cluster.calls('mget');
    const delta = cluster.ports.map((port) => after.get(port)! - before.get(port)!);
    expect(delta).toEqual(cluster.ports.map((port) => (port === owner ? N : 0)));
  });

  it('fails closed (503) while the master of the slot hangs, and recovers when it answers again', async () => {
    const owner = await cluster.ownerOf('{tokenledger}:gen');
    cluster.pause(owner);
    try {
      const reply = await get(server, '/api/whoami/', `Token ${keys.alice}`);
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.body)).toEqual({ detail: MESSAGES.unavailable });
    } finally {
      cluster.resume(owner);
    }
    await expect.poll(async () => (await get(server, '/api/whoami/', `Token ${keys.alice}`)).status, { timeout: 5_000 }).toBe(200);
  });
});

describe('`serve` on a Redis Cluster: projection, login throttle and readiness', () => {
  it('logs in, authenticates, throttles failed logins and reports ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-cluster-serve-'));
    const prefix = tagged('serve');
    const settings = {
      ...loadSettings({ store: `sqlite:${join(dir, 'events.db')}`, port: 0 }, { TOKENLEDGER_REDIS_URL: cluster.url, TOKENLEDGER_REDIS_PREFIX: prefix }),
      loginThrottle: { limit: 2, windowMs: 60_000 },
    };
    const running = await serve({ settings, logger: createLogger(new Writable({ write: (_c, _e, done) => done() })), handleSignals: false });
    try {
      await running.backends.ledger.registerUser({ username: 'alice', password: 'wonderland-123' });
      const login = (password: string) =>
        fetch(`${running.url}/api-token-auth/`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'alice', password }) });
      const { token } = (await (await login('wonderland-123')).json()) as { token: string };
      const whoami = await fetch(`${running.url}/api/whoami/`, { headers: { Authorization: `Token ${token}` } });
      expect(whoami.status).toBe(200);
      expect(((await whoami.json()) as { username: string }).username).toBe('alice');
      expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
      expect((await login('wrong-1')).status).toBe(400);
      expect((await login('wrong-2')).status).toBe(400);
      expect((await login('wonderland-123')).status).toBe(429);
      // The failures are counted in the cluster (shared by every replica), beside the projection.
      const owner = new Redis({ port: await cluster.ownerOf(`${prefix}gen`), host: '127.0.0.1' });
      expect(await owner.keys(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}throttle:*`)).not.toEqual([]);
      owner.disconnect();
    } finally {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('connecting to a Redis Cluster', () => {
  it('says in one line that no node answers, without the password of the URL', async () => {
    const url = `redis+cluster://:s3cret-pw@127.0.0.1:${await sparePort()},127.0.0.1:${await sparePort()}`;
    const error = await RedisProjectionStore.open({ url, prefix: '{tl}:', connectTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionUnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(/^TOKENLEDGER_REDIS_URL: cannot connect to Redis at cluster 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ \(/);
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('\n');
  });

  it('refuses a prefix without a hash tag, naming TOKENLEDGER_REDIS_PREFIX', async () => {
    await expect(RedisProjectionStore.open({ url: cluster.url, prefix: 'tokenledger:' })).rejects.toThrow(/^TOKENLEDGER_REDIS_PREFIX: .*hash tag/);
  });
});

/**
 * Keys under `prefix`, on the master of its slot, that belong neither to the live generation nor
 * to the bookkeeping: what a SCAN sent to the wrong node would have failed to delete.
 */
async function strayKeys(prefix: string): Promise<string[]> {
  const redis = new Redis({ port: await cluster.ownerOf(`${prefix}gen`), host: '127.0.0.1' });
  try {
    const live = await redis.get(`${prefix}gen`);
    const all = await redis.keys(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    expect(all.length).toBeGreaterThan(0);
    const bookkeeping = ['gen', 'gen:next', 'gens'].map((k) => prefix + k);
    return all.filter((key) => !bookkeeping.includes(key) && !(live !== null && key.startsWith(`${prefix}g${live}:`)));
  } finally {
    redis.disconnect();
  }
}

describe('rebuild == incremental on a Redis Cluster', () => {
  it('in any batches, applying twice changes nothing, and both match the domain fold', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb(25), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), async (steps, sizes) => {
        const fixture = appLedger();
        const prefix = tagged('inc');
        const incremental = await RedisProjectionStore.open({ url: cluster.url, prefix });
        const rebuilt = await RedisProjectionStore.open({ url: cluster.url, prefix: tagged('reb') });
        try {
          await runHistory(fixture.ledger, steps, (ms) => fixture.advance(ms));
          const log = await fixture.store.readAll({ after: 0n, limit: 1_000_000 });
          for (let i = 0, k = 0; i < log.length; k++) {
            const batch = log.slice(i, (i += sizes[k % sizes.length]!));
            await incremental.apply(batch);
            await incremental.apply(batch);
          }
          const once = comparable(await incremental.dump());
          expect(once.checkpoint).toBe(log.at(-1)!.position);
          await rebuildProjection(fixture.store, rebuilt, { readBatch: 5, flushEvery: 4 });
          expect(comparable(await rebuilt.dump())).toEqual(once);
          expect(withoutPositions((await rebuilt.dump()).records)).toEqual(await expectedRecords(fixture.store));
          // A rebuild over the live projection replaces it (new generation, old one dropped by SCAN).
          await rebuildProjection(fixture.store, incremental, { readBatch: 3, flushEvery: 2 });
          expect(comparable(await incremental.dump())).toEqual(once);
          expect(await strayKeys(prefix)).toEqual([]);
          await incremental.clear();
          expect(await strayKeys(prefix)).toEqual([]);
        } finally {
          await incremental.close();
          await rebuilt.close();
          await fixture.dispose();
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('a projector killed mid-batch on a Redis Cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-cluster-kill-'));
  const children = new Set<ChildProcess>();
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** `projection run` (now and then `projection rebuild`), SIGKILLed after a random delay. */
  async function killOnce(env: NodeJS.ProcessEnv, command: 'run' | 'rebuild'): Promise<void> {
    const args = command === 'run' ? ['projection', 'run', '--batch-size', '5'] : ['projection', 'rebuild'];
    const child = spawn(process.execPath, ['bin/run.js', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
    const following = new Promise<void>((resolve) => {
      child.stderr!.on('data', (chunk: Buffer) => chunk.toString().includes('following') && resolve());
      void exited.then(resolve);
    });
    if (command === 'run') {
      await following;
      await sleep(Math.random() * 60);
    } else {
      await sleep(300 + Math.random() * 500);
    }
    child.kill('SIGKILL');
    await exited;
  }

  it('loses and doubles nothing: resumed == a fresh rebuild, at the head of the log', async () => {
    const prefix = tagged('kill');
    const env = { ...process.env, TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_URL: cluster.url, TOKENLEDGER_REDIS_PREFIX: prefix };
    const events = new SqliteEventStore(join(dir, 'events.db'));
    const checker = await RedisProjectionStore.open({ url: cluster.url, prefix });
    const fresh = await RedisProjectionStore.open({ url: cluster.url, prefix: tagged('kill-fresh') });
    try {
      await appendHistory(events, { users: 30 });
      await new Projector(events, checker).catchUp();
      let interrupted = 0;
      // Two lanes at once: besides being killed, projectors race each other.
      const lane = async (name: string) => {
        for (let round = 0; round < 4; round++) {
          await appendHistory(events, { users: 8, prefix: `${name}${round}-` });
          const before = await checker.checkpoint();
          await killOnce(env, round === 3 && name === 'b' ? 'rebuild' : 'run');
          const after = await checker.checkpoint();
          if (after > before && after < (await events.headPosition())) interrupted += 1;
        }
      };
      await Promise.all([lane('a'), lane('b')]);
      // Kills that land in the middle of real work are the point of this test.
      expect(interrupted).toBeGreaterThanOrEqual(3);

      const head = await events.headPosition();
      await new Projector(events, checker).catchUp();
      await rebuildProjection(events, fresh);
      const resumed = comparable(await checker.dump());
      expect(resumed.checkpoint).toBe(head);
      expect(resumed).toEqual(comparable(await fresh.dump()));
      expect(withoutPositions((await checker.dump()).records)).toEqual(await expectedRecords(events));
    } finally {
      await checker.close();
      await fresh.close();
      await events.close();
    }
  }, 60_000);
});

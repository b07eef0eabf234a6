import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config.js';
import { MESSAGES } from '../../../src/koa/index.js';
import { openProjection, type ProjectionRuntime } from '../../../src/projection/open.js';
import { ProjectionUnavailableError } from '../../../src/projection/port.js';
import { RedisProjectionStore } from '../../../src/projection/redis/store.js';
import { tempLedger, whoamiApp } from '../../koa/fixtures.js';
import { get, listen, type Listening } from '../../koa/http.js';
import { PrivateSentinel } from './cluster-nodes.js';

/* TOKENLEDGER_REDIS_URL=redis+sentinel://…/mastername, on a Sentinel of our own. */
let servers: PrivateSentinel;
let fx: Awaited<ReturnType<typeof tempLedger>>;
let runtime: ProjectionRuntime;
let server: Listening;

beforeAll(async () => {
  servers = await PrivateSentinel.start();
  fx = await tempLedger();
  runtime = await openProjection(loadSettings({ store: fx.url }, { TOKENLEDGER_REDIS_URL: servers.url }), { events: fx.store });
  server = await listen(whoamiApp(runtime.store));
}, 30_000);
afterAll(async () => {
  await server?.close();
  await runtime?.close();
  await fx?.dispose();
  await servers?.stop();
});

const whoami = async (key: string) => {
  const reply = await get(server, '/api/whoami/', `Token ${key}`);
  return `${reply.status} ${reply.body}`;
};

async function masterOf(sentinel: Redis): Promise<string> {
  return ((await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')) as string[] | null)?.join(':') ?? 'none';
}

it('projects and answers lookups through the master the sentinel names', async () => {
  await fx.ledger.registerUser({ username: 'alice', password: null });
  const kept = (await fx.ledger.issueToken({ username: 'alice' })).key;
  const revoked = (await fx.ledger.issueToken({ username: 'alice', name: 'old' })).key;
  await fx.ledger.revokeToken({ username: 'alice', name: 'old' });
  await runtime.projector.catchUp();
  expect(await whoami(kept)).toBe('200 {"username":"alice"}');
  expect(await whoami(revoked)).toBe(`401 ${JSON.stringify({ detail: MESSAGES.invalidToken })}`);
  // The keys are on the master itself, under the default prefix.
  const master = new Redis({ port: servers.masterPort, host: '127.0.0.1' });
  expect(await master.exists('tokenledger:gen')).toBe(1);
  master.disconnect();
});

it('follows a failover at once: the next write and lookup go to the promoted replica', async () => {
  const sentinel = new Redis({ port: servers.sentinelPort, host: '127.0.0.1' });
  const promoted = new Redis({ port: servers.replicaPort, host: '127.0.0.1' });
  try {
    await sentinel.call('SENTINEL', 'FAILOVER', 'mymaster');
    await expect.poll(() => masterOf(sentinel), { timeout: 15_000, interval: 50 }).toBe(`127.0.0.1:${servers.replicaPort}`);
    // Sentinel demotes the old master only seconds later, and until then it takes writes that
    // its resync would erase: both connections must have moved on the switch itself.
    const names = async () => ((await promoted.client('LIST')) as string).match(/name=tokenledger-\w+/g)?.sort().join(' ');
    await expect.poll(names, { timeout: 5_000, interval: 50 }).toBe('name=tokenledger-lookup name=tokenledger-projector');
    expect(await promoted.info('replication')).toMatch(/role:master/);

    const key = (await fx.ledger.issueToken({ username: 'alice', name: 'after-failover' })).key;
    // A connection still finishing its handshake fails fast (a projector retries next round).
    const caughtUp = () => runtime.projector.catchUp().then(() => 'caught up', (error: Error) => error.message);
    await expect.poll(caughtUp, { timeout: 5_000, interval: 50 }).toBe('caught up');
    expect(await promoted.get(`tokenledger:g${await promoted.get('tokenledger:gen')}:checkpoint`)).toBe(String(await fx.store.headPosition()));
    expect(await whoami(key)).toBe('200 {"username":"alice"}');
  } finally {
    sentinel.disconnect();
    promoted.disconnect();
  }
});

it('names the master and the sentinels in one line when the sentinel knows no such master', async () => {
  const url = `redis+sentinel://:pw-s3cret@127.0.0.1:${servers.sentinelPort}/nosuchmaster`;
  const error = await RedisProjectionStore.open({ url, prefix: 'x:', connectTimeoutMs: 300 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProjectionUnavailableError);
  expect((error as Error).message).toMatch(/^TOKENLEDGER_REDIS_URL: cannot connect to Redis at nosuchmaster via sentinels 127\.0\.0\.1:\d+ \(not ready within \d+ ms: .*No such master with that name/);
  expect((error as Error).message).not.toContain('s3cret');
});

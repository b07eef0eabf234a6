// npm run bench:rebuild — how fast `projection rebuild` replays a log of 1,000,000 events into
// Redis (goal ≥ 100,000 events/s), and what a token costs in Redis memory (goal ≤ 400 bytes
// per record in MEMORY USAGE). Prints figures; asserts nothing.
// The log (250,000 tokens of 50,000 users, issued, rotated three times, some revoked, some users
// deactivated) is generated once into the temp dir and reused: FRESH=1 makes it again,
// EVENTS=<n> changes its size. Needs `npm run build` and Redis (REDIS_URL, default 127.0.0.1:6379).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { appendHistory } from './rebuild-history.mjs';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(tmpdir(), `tl-bench-rebuild-${EVENTS}`);
const path = join(dir, 'events.db');
const prefix = `bench:rebuild:${process.pid}:`;

const { SqliteEventStore } = await import(join(root, 'dist/src/eventstore/sqlite.js'));
const { RedisProjectionStore } = await import(join(root, 'dist/src/projection/redis/store.js'));
const { MemoryProjectionStore } = await import(join(root, 'dist/src/projection/memory.js'));
const { rebuildProjection } = await import(join(root, 'dist/src/projection/rebuild.js'));
const { catchUp } = await import(join(root, 'dist/src/projection/catch-up.js'));

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const seconds = (from) => Number(process.hrtime.bigint() - from) / 1e9;

async function logOfSize() {
  if (process.env.FRESH !== '1' && existsSync(path)) {
    const store = new SqliteEventStore(path);
    if (Number(await store.headPosition()) === EVENTS) return store;
    await store.close();
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = new SqliteEventStore(path);
  const started = process.hrtime.bigint();
  const users = Math.ceil(EVENTS / 20);
  const written = await appendHistory(store, { users, limit: EVENTS, onRound: (round, n) => console.log(`  generating: round ${round + 1}/3, ${fmt(n)} events`) });
  console.log(`generated ${fmt(written)} events (${fmt(users * 5)} tokens of ${fmt(users)} users) in ${seconds(started).toFixed(1)} s`);
  return store;
}

function progress(label) {
  let last = 0;
  return (p) => {
    if (Date.now() - last < 2_000 && p.phase === 'replay') return;
    last = Date.now();
    const eta = p.etaMs === null ? '?' : `${(p.etaMs / 1000).toFixed(0)} s`;
    console.log(`  ${label}: ${p.phase} ${fmt(p.events)}/${fmt(p.total)} events, ${fmt(p.eventsPerSecond)} events/s, ETA ${eta}`);
  };
}

async function memoryUsage(raw, pattern, sample = 2_000) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, found] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0' && keys.length < sample);
  const sizes = await Promise.all(keys.slice(0, sample).map((key) => raw.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')));
  const total = sizes.reduce((a, b) => a + Number(b), 0);
  return { average: total / sizes.length, count: sizes.length };
}

const events = await logOfSize();
const head = Number(await events.headPosition());
console.log(`log: ${fmt(head)} events in ${path}`);

const raw = new Redis(REDIS_URL);
const redis = await RedisProjectionStore.open({ url: REDIS_URL, prefix });
try {
  const before = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))[1]);
  const result = await rebuildProjection(events, redis, { onProgress: progress('redis') });
  console.log(`\nrebuild into Redis: ${fmt(result.events)} events in ${(result.elapsedMs / 1000).toFixed(2)} s = ${fmt(result.eventsPerSecond)} events/s (goal ≥ 100,000)`);

  const dump = await redis.dump();
  const records = dump.records.size;
  const after = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))[1]);
  const record = await memoryUsage(raw, `${prefix}g1:t:*`);
  const doc = await memoryUsage(raw, `${prefix}g1:u:*`);
  console.log(`records: ${fmt(records)} live secrets, ${fmt(dump.docs.size)} user documents`);
  console.log(`MEMORY USAGE per record: ${fmt(record.average)} bytes (mean of ${fmt(record.count)}; goal ≤ 400)`);
  console.log(`MEMORY USAGE per user document: ${fmt(doc.average)} bytes (${(dump.docs.size / records).toFixed(2)} per record)`);
  console.log(`used_memory growth / records: ${fmt((after - before) / records)} bytes per record, user documents included`);

  const memory = new MemoryProjectionStore();
  const inMemory = await rebuildProjection(events, memory, { onProgress: progress('memory') });
  console.log(`\nrebuild into memory: ${fmt(inMemory.eventsPerSecond)} events/s (reading and folding the log alone)`);
  console.log(`ratio Redis / memory: ${(result.eventsPerSecond / inMemory.eventsPerSecond).toFixed(2)} (the share of the replay's own rate that survives writing to Redis)`);

  const slice = Math.min(head, 200_000);
  await redis.clear();
  const started = process.hrtime.bigint();
  await catchUp(events, redis, 1_000, BigInt(slice));
  console.log(`incremental catch-up (projector, 1,000 events per atomic write): ${fmt(slice / seconds(started))} events/s over the first ${fmt(slice)} events`);
} finally {
  await redis.clear().catch(() => {});
  for (const key of await raw.keys(`${prefix}*`)) await raw.unlink(key);
  await redis.close();
  await raw.quit();
  await events.close();
}

// npm run bench:follow — the projector's follow latency: a token is appended to the log by a
// writer that does NOT update the projection itself, and the clock runs until a standalone
// projector has made its record visible in Redis (polled with lookups every 0.5 ms). Printed for
// SQLite (the projector polls every 25 ms, the default) and PostgreSQL (LISTEN/NOTIFY).
// Goal: p99 ≤ 50 ms. Asserts nothing. N=<appends> changes the count.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const N = Number(process.env.N ?? 200);
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (path) => import(join(root, 'dist/src', path));
const { loadSettings } = await dist('config.js');
const { openEventStore } = await dist('eventstore/open.js');
const { openProjection } = await dist('projection/open.js');
const { defaultDeps } = await dist('app/context.js');
const { Ledger } = await dist('app/ledger.js');
const { digestKey } = await dist('domain/token-format.js');

const PG = process.env.TOKENLEDGER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(label, storeUrl) {
  const prefix = `tl-bench-follow-${randomBytes(4).toString('hex')}:`;
  const settings = loadSettings({}, { TOKENLEDGER_STORE: storeUrl, TOKENLEDGER_REDIS_URL: 'redis://127.0.0.1:6379', TOKENLEDGER_REDIS_PREFIX: prefix });
  const events = await openEventStore(storeUrl);
  const runtime = await openProjection(settings, { events });
  await runtime.projector.catchUp();
  runtime.projector.start();
  // The writer has no afterAppend: only the following projector can make the record visible.
  const writer = new Ledger(defaultDeps(await openEventStore(storeUrl)));
  await writer.registerUser({ username: 'follow', password: null });
  const latencies = [];
  for (let i = 0; i < N; i++) {
    const { key } = await writer.issueToken({ username: 'follow', name: `t${i}` });
    const start = process.hrtime.bigint();
    const digest = digestKey(key);
    while ((await runtime.store.lookup(digest)) === null) await sleep(0.5);
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    await sleep(5);
  }
  latencies.sort((a, b) => a - b);
  const p50 = pct(latencies, 50);
  const p99 = pct(latencies, 99);
  console.log(`${label.padEnd(40)} append → record in Redis: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1).toFixed(1)} ms (${N} appends; goal p99 ≤ 50 ms: ${p99 <= 50 ? 'met' : 'missed'})`);
  await writer.close();
  await runtime.close();
  await events.close();
}

const dir = mkdtempSync(join(tmpdir(), 'tl-bench-follow-'));
await measure('SQLite (projector polls every 25 ms)', `sqlite:${join(dir, 'events.db')}`);
const schema = `tl_bench_follow_${randomBytes(4).toString('hex')}`;
try {
  await measure('PostgreSQL (LISTEN/NOTIFY)', `${PG}?schema=${schema}`);
} finally {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  rmSync(dir, { recursive: true, force: true });
}
// Redis keys of the runs stay under their tl-bench-follow-* prefixes; drop them.
const { Redis } = await import('ioredis');
const redis = new Redis('redis://127.0.0.1:6379');
const keys = await redis.keys('tl-bench-follow-*');
if (keys.length) await redis.del(...keys);
await redis.quit();

// npm run bench:store:pg — token-issue commands per second through the Ledger API with several
// commands in flight (different users, as a busy `serve` would have them), on PostgreSQL and, in
// the same run for comparison, on SQLite. Prints figures; asserts nothing. Goal: ≥ 1,000/s
// on PostgreSQL. N=<issues> USERS=<users> CONCURRENCY=<in flight> PG_URL=<postgres://…> change it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.N ?? 4_000);
const USERS = Number(process.env.USERS ?? 500);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = fileURLToPath(new URL('..', import.meta.url));

const { openEventStore } = await import(join(root, 'dist/src/eventstore/open.js'));
const { Ledger } = await import(join(root, 'dist/src/app/ledger.js'));
const { defaultDeps } = await import(join(root, 'dist/src/app/context.js'));
const actor = { actor: 'bench', channel: 'cli', source: 'bench' };

/** Runs `count` jobs with `CONCURRENCY` in flight; returns jobs per second. */
async function inFlight(count, job) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < count; i = next++) await job(i);
  }));
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function measure(label, url) {
  const store = await openEventStore(url);
  const ledger = new Ledger(defaultDeps(store), actor);
  const registered = await inFlight(USERS, (i) => ledger.registerUser({ username: `user${i}`, password: null }));
  // Round-robin over the users, so each issue loads a stream that grows by one token per round.
  const cpu = process.cpuUsage();
  const issued = await inFlight(N, (i) => ledger.issueToken({ username: `user${i % USERS}`, name: `t${Math.floor(i / USERS)}` }));
  const used = process.cpuUsage(cpu);
  await ledger.close();
  // This process's CPU per issue: tells "the store is slow" from "the machine is busy".
  const cpuMs = ((used.user + used.system) / 1000 / N).toFixed(2);
  console.log(`${label.padEnd(34)} register ${String(Math.round(registered)).padStart(5)}/s   issue ${String(Math.round(issued)).padStart(5)}/s   (${cpuMs} ms CPU per issue in this process)`);
  return issued;
}

async function dropSchema(name) {
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  await admin.end();
}

/** How long after an append starts a follower woken by `subscribe` has read it (ms; p50, p99). */
async function followLatency(url, n = 200) {
  const [writer, follower] = [await openEventStore(url), await openEventStore(url)];
  const started = new Map();
  const latencies = [];
  let after = 0n;
  let reading = false;
  const read = async () => {
    if (reading) return;
    reading = true;
    for (let batch; (batch = await follower.readAll({ after, limit: 100 })).length > 0; ) {
      for (const event of batch) latencies.push(performance.now() - started.get(event.data.i));
      after = batch.at(-1).position;
    }
    reading = false;
  };
  const unsubscribe = follower.subscribe(() => void read());
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (let i = 0; i < n; i++) {
    started.set(i, performance.now());
    await writer.append(`f${i}`, [{ type: 'Tick', data: { i }, metadata: {} }], 'no_stream');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  while (latencies.length < n) await new Promise((resolve) => setTimeout(resolve, 10));
  unsubscribe();
  await Promise.all([writer.close(), follower.close()]);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { n, p50: at(0.5), p99: at(0.99) };
}

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
console.log(`${N} token issues over ${USERS} users, ${CONCURRENCY} in flight, through the Ledger API (no projection attached)`);
const schema = `tl_bench_${randomBytes(4).toString('hex')}`;
let pgRate = 0;
try {
  pgRate = await measure('PostgreSQL (synchronous_commit)', `${PG_URL}?schema=${schema}&pool=${CONCURRENCY}`);
} finally {
  await dropSchema(schema);
}
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-pg-'));
const follow = await followLatency(`${PG_URL}?schema=${schema}_f`).finally(() => dropSchema(`${schema}_f`));
console.log(`${'PostgreSQL LISTEN/NOTIFY follow'.padEnd(34)} append → readAll by a subscriber: p50 ${follow.p50.toFixed(1)} ms, p99 ${follow.p99.toFixed(1)} ms (${follow.n} appends, 5 ms apart)`);
const sqliteRate = await measure('SQLite (WAL, synchronous=FULL)', `sqlite:${join(dir, 'bench.db')}`);
rmSync(dir, { recursive: true, force: true });
console.log(`PostgreSQL / SQLite: ${(pgRate / sqliteRate).toFixed(2)}×`);
console.log(`goal: PostgreSQL ≥ 1,000 issues/s → ${pgRate >= 1000 ? 'met' : 'missed'} on this run (${Math.round(pgRate)}/s)`);

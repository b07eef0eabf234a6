// npm run soak [-- --minutes 10] [--clients 16] [--seed N] [--live 1000] [--snapshots]
//
// Mixed traffic against a real `serve` on Redis (its own redis-server on a spare port) for
// --minutes, while at random moments: the standalone projector is SIGKILLed and restarted, Redis
// is killed and restarted (from an older RDB snapshot when there is one: a Redis behind the log),
// and a `sqlite3` shell holds the log's write lock for 1-8 s. Then it checks:
//   1. no key ever got a 200 from a request sent after its revocation was answered;
//   2. the Redis projection equals a rebuild from the log (records and user documents);
//   3. `tokenledger audit verify` passes;
//   4. serve's RSS grew at most 20% after warm-up: the median of the samples (every 2 s) in the
//      last 10% of the run against the median in the 10% right after warm-up (the first 20% of the
//      run, at least 60 s). Medians of windows, not single samples: V8's heap breathes by tens of
//      MiB between collections, a leak climbs.
// Data: live keys are held at --live (default 1,000; 0 = no bound): at the bound a login or token
// create becomes a revoke. The log grows all along (append-only; it lives on disk). --snapshots also takes
// a heap snapshot of serve (after a full GC) after warm-up and at the end and prints the live heap
// of both and what grew, by constructor (bench/heapsnapshot.mjs): a leak is there, not in the RSS.
// Prints the figures and exits 1 if a check failed. Not in CI: `npm run build` first.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { growth as heapGrowth, summarise } from './heapsnapshot.mjs';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    seed: { type: 'string' },
    live: { type: 'string', default: '1000' },
    snapshots: { type: 'boolean', default: false },
  },
});
const MINUTES = Number(args.minutes);
const CLIENTS = Number(args.clients);
/** At most this many live keys (0: no bound): at the bound, an op that would add a key revokes one. */
const LIVE = Number(args.live);
let seed = Number(args.seed ?? Date.now() % 2 ** 31);
const SEED = seed;
/** mulberry32: a seeded stream, so a run's chaos schedule can be replayed. */
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const BIN = resolve('bin/run.js');
const dist = (path) => import(resolve('dist', path));
const dir = mkdtempSync(join(tmpdir(), 'tl-soak-'));
const dbPath = join(dir, 'events.db');
const store = `sqlite:${dbPath}`;
const PREFIX = 'soak:';

function sparePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
const exited = (child) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));

// ---- Redis ------------------------------------------------------------------------------------
const redisPort = await sparePort();
const REDIS_URL = `redis://127.0.0.1:${redisPort}`;
let redis = null;
async function startRedis() {
  redis = track(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'soak.rdb', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  for (let i = 0; i < 500; i++) {
    const probe = new Redis({ port: redisPort, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    const up = await probe.connect().then(() => true, () => false);
    probe.disconnect();
    if (up) return;
    await sleep(10);
  }
  throw new Error('redis-server did not start');
}
async function redisCommand(...command) {
  const client = new Redis({ port: redisPort, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    return await client.call(...command);
  } finally {
    client.disconnect();
  }
}

// ---- processes ----------------------------------------------------------------------------------
const env = { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: PREFIX, TOKENLEDGER_LOGIN_THROTTLE: 'off', LOG_LEVEL: 'warn' };

function startServe() {
  return new Promise((done, fail) => {
    // SIGUSR2 makes V8 write a heap snapshot (after a full GC) into the serve's cwd (--snapshots).
    const nodeArgs = args.snapshots ? ['--heapsnapshot-signal=SIGUSR2'] : [];
    const child = track(spawn(process.execPath, [...nodeArgs, BIN, 'serve', '--port', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      for (const line of chunk.split('\n')) if (/"level":(50|60)/.test(line)) errorLines.push(line.slice(0, 300));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
      const found = /listening on (http:\/\/\S+)/.exec(stderr);
      if (found) done({ child, url: found[1] });
    });
    child.once('exit', (code) => fail(new Error(`serve exited (${code}) before listening: ${stderr}`)));
  });
}
let projector = null;
function startProjector() {
  projector = track(spawn(process.execPath, [BIN, 'projection', 'run'], { env, stdio: 'ignore' }));
}

/** A heap snapshot of serve (taken after a full GC), once its file is written; its path. */
async function heapSnapshot(pid) {
  const before = new Set(readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 1_200; i++) {
    await sleep(250);
    const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    // V8 writes the file on serve's main thread: once serve answers again, the file is complete.
    if (fresh && (await call('GET', '/healthz')).status === 200) return join(dir, fresh);
  }
  throw new Error('serve wrote no heap snapshot');
}

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

// ---- set-up ---------------------------------------------------------------------------------------
const errorLines = [];
await startRedis();
{
  const { openLedger } = await dist('src/app/ledger.js');
  const { loadSettings } = await dist('src/config.js');
  const ledger = await openLedger({ settings: { ...loadSettings({}, {}), store } });
  await ledger.registerUser({ username: 'staffer', password: 'staff-pass-123', isStaff: true, isSuperuser: true });
  for (let i = 0; i < 20; i++) await ledger.registerUser({ username: `user${i}`, password: `user${i}-pass-123` });
  var staffKey = (await ledger.issueToken({ username: 'staffer', name: 'soak' })).key;
  await ledger.close();
}
const { child: serve, url } = await startServe();
startProjector();
const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

function call(method, path, { key, json } = {}) {
  return new Promise((done) => {
    const headers = {};
    if (key) headers.Authorization = `Token ${key}`;
    const body = json === undefined ? undefined : JSON.stringify(json);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const req = request(`${url}${path}`, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {}
        done({ status: res.statusCode, json: parsed });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', (error) => done({ status: 0, error: error.code ?? error.message }));
    req.end(body);
  });
}

// ---- traffic --------------------------------------------------------------------------------------
const live = []; // { username, name, key }
const revoked = []; // { key, at }: revocation answered at performance.now() = at
const violations = [];
const counts = new Map();
/** Per second of the run: whether a live key's whoami got a 200, a 503 (for how long lookups failed). */
const seconds503 = new Set();
const seconds200 = new Set();
const count = (op, status) => {
  const key = `${op} ${status}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (op === 'whoami') (status === 503 ? seconds503 : status === 200 ? seconds200 : new Set()).add(Math.floor((performance.now() - started) / 1000));
};
/** The longest run of seconds with a 503 and no 200 for live keys' whoami. */
function longestOutage() {
  let longest = 0;
  let current = 0;
  for (let s = 0; s <= Math.ceil((until - started) / 1000); s++) {
    current = seconds503.has(s) && !seconds200.has(s) ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}
let serial = 0;

/** Forgets a key the server refused (revoked by the login limit, say): it is no longer live. */
function forget(token) {
  const index = live.indexOf(token);
  if (index >= 0) live.splice(index, 1);
}

async function operation() {
  let r = random();
  // At the bound of live keys, an op that would add one (a login, a token create) revokes one.
  if (LIVE > 0 && live.length >= LIVE && r >= 0.6 && r < 0.82) r = 0.82 + (r - 0.6) * (0.1 / 0.22);
  if (r < 0.45 && live.length > 0) {
    const token = pick(live);
    const reply = await call('GET', '/api/whoami/', { key: token.key });
    count('whoami', reply.status);
    if (reply.status === 401) forget(token);
  } else if (r < 0.6 && revoked.length > 0) {
    const token = pick(revoked);
    const sent = performance.now();
    const reply = await call('GET', '/api/whoami/', { key: token.key });
    count('whoami-revoked', reply.status);
    if (reply.status === 200 && sent > token.at) violations.push(`revoked key got 200 (revoked ${Math.round(sent - token.at)} ms before the request)`);
  } else if (r < 0.72) {
    const username = `user${Math.floor(random() * 20)}`;
    const reply = await call('POST', '/api-token-auth/', { json: { username, password: `${username}-pass-123` } });
    count('login', reply.status);
    if (reply.status === 200) live.push({ username, name: null, key: reply.json.token, login: true });
  } else if (r < 0.82) {
    const username = `user${Math.floor(random() * 20)}`;
    const name = `t${serial++}`;
    const reply = await call('POST', '/api/tokens/', { key: staffKey, json: { username, name } });
    count('token-create', reply.status);
    if (reply.status === 201 || reply.status === 200) live.push({ username, name, key: reply.json.key ?? reply.json.token });
  } else if (r < 0.92 && live.length > 10) {
    const index = Math.floor(random() * live.length);
    const token = live[index];
    const reply = token.login
      ? await call('POST', '/auth/logout/', { key: token.key })
      : await call('DELETE', `/api/tokens/${token.username}/${token.name}/`, { key: staffKey });
    count(token.login ? 'logout' : 'token-revoke', reply.status);
    if (reply.status === 204 || reply.status === 200) {
      forget(token);
      revoked.push({ key: token.key, at: performance.now() });
    } else if (reply.status === 401 || reply.status === 404) forget(token);
  } else {
    const reply = await call('GET', pick(['/api/users/', '/api/tokens/user1/', '/readyz', '/healthz']), { key: staffKey });
    count('read', reply.status);
  }
}

// ---- chaos ----------------------------------------------------------------------------------------
const chaosLog = [];
let lockHolds = 0;
async function holdLock(ms) {
  const shell = track(spawn('sqlite3', [dbPath], { stdio: ['pipe', 'ignore', 'ignore'] }));
  shell.stdin.write('BEGIN IMMEDIATE;\nINSERT INTO sqlite_sequence SELECT * FROM sqlite_sequence WHERE 0;\n');
  await sleep(ms);
  shell.stdin.end('ROLLBACK;\n');
  await exited(shell);
  lockHolds += 1;
}

async function chaos(until) {
  while (performance.now() < until) {
    await sleep(3_000 + random() * 12_000);
    if (performance.now() >= until) break;
    const what = random();
    const at = ((performance.now() - started) / 1000).toFixed(1);
    if (what < 0.33) {
      projector.kill('SIGKILL');
      await exited(projector);
      await sleep(random() * 2_000);
      startProjector();
      chaosLog.push(`${at}s projector killed`);
    } else if (what < 0.66) {
      // Sometimes take a snapshot first, so the restart comes back from an older state than the log.
      if (random() < 0.5) await redisCommand('SAVE').catch(() => {});
      await sleep(random() * 3_000);
      redis.kill('SIGKILL');
      await exited(redis);
      await sleep(random() * 1_000);
      await startRedis();
      chaosLog.push(`${at}s redis restarted`);
    } else {
      const ms = 1_000 + random() * 7_000;
      await holdLock(ms);
      chaosLog.push(`${at}s sqlite lock held ${Math.round(ms)} ms`);
    }
  }
}

// ---- the run --------------------------------------------------------------------------------------
const started = performance.now();
const until = started + MINUTES * 60_000;
const warmUpEnd = started + Math.max(60_000, MINUTES * 12_000);
const rss = [];
/** serve's own view of its memory (/metrics, prom-client's process metrics), sampled with the RSS. */
const heap = [];
const METRIC = /^tokenledger_process_(nodejs_heap_size_total_bytes|nodejs_heap_size_used_bytes|nodejs_external_memory_bytes|nodejs_heap_space_size_total_bytes\{space="(?:new|old|code|large_object)"\}) (\S+)$/gm;
const sampler = setInterval(() => {
  const t = performance.now();
  try {
    rss.push({ t, bytes: rssOf(serve.pid) });
  } catch {}
  void metricsText().then((text) => {
    const found = Object.fromEntries([...text.matchAll(METRIC)].map(([, name, value]) => [name, Number(value)]));
    const space = (name) => found[`nodejs_heap_space_size_total_bytes{space="${name}"}`];
    if (found.nodejs_heap_size_total_bytes) {
      heap.push({ t, total: found.nodejs_heap_size_total_bytes, used: found.nodejs_heap_size_used_bytes, external: found.nodejs_external_memory_bytes, new: space('new'), old: space('old'), large: space('large_object') });
    }
  }, () => {});
}, 2_000);
function metricsText() {
  return new Promise((done, fail) => {
    const req = request(`${url}/metrics`, { agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => (text += c));
      res.on('end', () => done(text));
    });
    req.setTimeout(1_500, () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end();
  });
}
let requests = 0;
console.log(`soak: ${MINUTES} min, ${CLIENTS} clients, seed ${SEED}, live keys ${LIVE > 0 ? `<= ${LIVE}` : 'unbounded'}, serve ${url}, redis :${redisPort}, log ${dbPath}`);
const progress = setInterval(() => {
  const last = rss.at(-1);
  console.log(`  ${((performance.now() - started) / 60_000).toFixed(1)} min: ${requests} requests, ${live.length} live keys, ${revoked.length} revoked, rss ${last ? (last.bytes / 2 ** 20).toFixed(1) : '?'} MiB`);
}, 60_000);
// --snapshots: a heap snapshot of serve once the warm-up window has been sampled (it costs serve
// memory of its own, so it comes after that window and counts against the end's RSS, not for it),
// and one after the traffic. Both with the data they saw: live keys and the log's head.
const { openEventStore } = await dist('src/eventstore/open.js');
async function logHead() {
  const events = await openEventStore(store);
  try {
    return Number(await events.headPosition());
  } finally {
    await events.close();
  }
}
const snapshots = [];
async function snapshotNow(label) {
  const at = { label, live: live.length, revoked: revoked.length, head: await logHead() };
  const path = await heapSnapshot(serve.pid);
  snapshots.push({ ...at, summary: summarise(path) });
  rmSync(path);
}
// With --snapshots, the RSS window after warm-up starts once the first snapshot is written
// (writing one takes memory of its own), so both windows see whatever it left behind.
let warmWindowStart = warmUpEnd;
await Promise.all([
  chaos(until),
  ...Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < until) {
      await operation();
      requests += 1;
    }
  }),
  args.snapshots ? sleep(warmUpEnd - performance.now()).then(() => snapshotNow('after warm-up')).then(() => (warmWindowStart = performance.now())) : null,
]);
clearInterval(progress);
clearInterval(sampler);
const seconds = (performance.now() - started) / 1000;
if (args.snapshots) await snapshotNow('end');

// ---- checks ---------------------------------------------------------------------------------------
// Let the projection settle (both projectors are up again), then compare it with a rebuild.
const { RedisProjectionStore } = await dist('src/projection/redis/store.js');
const { MemoryProjectionStore } = await dist('src/projection/memory.js');
const { rebuildProjection } = await dist('src/projection/rebuild.js');
// The log as serve and the projectors read it: sealed events opened with the vault beside it.
const { openLog } = await dist('src/eventstore/vault/index.js');
const events = await openLog({ store });
const projection = await RedisProjectionStore.open({ url: REDIS_URL, prefix: PREFIX });
const head = await events.headPosition();
for (let i = 0; i < 600 && (await projection.checkpoint().catch(() => -1n)) < head; i++) await sleep(100);
const stable = (dump) => {
  const sorted = (map) => Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({ checkpoint: dump.checkpoint, docs: sorted(dump.docs), records: sorted(dump.records) }, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
};
const liveRaw = await projection.dump();
const liveDump = stable(liveRaw);
const rebuilt = new MemoryProjectionStore();
await rebuildProjection(events, rebuilt);
const rebuiltRaw = await rebuilt.dump();
const equal = liveDump === stable(rebuiltRaw);
/** Where the two differ (keys only, a few of each kind), to say what a failed check 2 was. */
function differences(a, b) {
  const out = [`checkpoint ${a.checkpoint} vs ${b.checkpoint}`];
  for (const kind of ['docs', 'records']) {
    const keys = new Set([...a[kind].keys(), ...b[kind].keys()]);
    const differing = [...keys].filter((k) => JSON.stringify(a[kind].get(k)) !== JSON.stringify(b[kind].get(k)));
    out.push(`${kind}: ${a[kind].size} vs ${b[kind].size}, ${differing.length} differ${differing.length ? ` (${differing.slice(0, 3).map((k) => `${k.slice(0, 12)}: ${a[kind].has(k) ? 'redis' : '-'}/${b[kind].has(k) ? 'rebuild' : '-'}`).join(', ')})` : ''}`);
  }
  return out.join('; ');
}
await projection.close();
await events.close();

const verify = spawnSync(process.execPath, [BIN, 'audit', 'verify'], { env, encoding: 'utf8' });

const windowMs = (until - started) * 0.1;
const median = (samples) => {
  const sorted = samples.map((s) => s.bytes).sort((a, b) => a - b);
  return { bytes: sorted[sorted.length >> 1] };
};
const warm = median(rss.filter((s) => s.t > warmWindowStart && s.t <= warmWindowStart + windowMs));
const end = median(rss.filter((s) => s.t > until - windowMs));
const growth = end.bytes / warm.bytes - 1;

const statusSummary = Object.fromEntries([...counts].sort());
console.log(`\nsoak figures (seed ${SEED}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
console.log(`  ${requests} requests in ${seconds.toFixed(0)} s (${Math.round(requests / seconds)}/s), ${CLIENTS} clients; log head ${head}`);
console.log(`  chaos: ${chaosLog.filter((c) => c.includes('projector')).length} projector kills, ${chaosLog.filter((c) => c.includes('redis')).length} Redis restarts, ${lockHolds} SQLite lock holds`);
console.log(`  answers: ${JSON.stringify(statusSummary)}`);
console.log(`  live keys' whoami: a 503 in ${seconds503.size} of ${Math.round(seconds)} s, no 200 at all in ${[...seconds503].filter((x) => !seconds200.has(x)).length} s (longest ${longestOutage()} s in a row)`);
console.log(`  revoked keys probed: ${counts.get('whoami-revoked 401') ?? 0} x 401, ${counts.get('whoami-revoked 503') ?? 0} x 503, ${violations.length} x 200 after revocation`);
console.log(`  projection equals a rebuild: ${equal}${equal ? '' : ` (${differences(liveRaw, rebuiltRaw)})`}`);
console.log(`  audit verify: exit ${verify.status} (${verify.stdout.trim().split('\n').at(-1) ?? ''})`);
{
  // Where the RSS went: V8's heap (reserved, and in use at the sample: not after a GC), memory
  // outside it that V8 knows of (Buffers and other ArrayBuffers), and the rest (native: the node
  // binary's pages, malloc'd memory of SQLite, ioredis, argon2, libuv, and allocator slack).
  const inWindow = (list, from, to) => list.filter((x) => x.t > from && x.t <= to);
  const med = (list, field) => {
    const sorted = list.map((x) => x[field]).sort((a, b) => a - b);
    return sorted[sorted.length >> 1] ?? NaN;
  };
  const fmt = (a, b) => `${(a / 2 ** 20).toFixed(1)} -> ${(b / 2 ** 20).toFixed(1)} MiB`;
  const hw = inWindow(heap, warmWindowStart, warmWindowStart + windowMs);
  const he = inWindow(heap, until - windowMs, until);
  if (hw.length > 0 && he.length > 0) {
    const rest = (window, rssWindow) => med(rssWindow, 'bytes') - med(window, 'total') - med(window, 'external');
    console.log(
      `  serve memory, same windows: V8 heap reserved ${fmt(med(hw, 'total'), med(he, 'total'))} (new space ${fmt(med(hw, 'new'), med(he, 'new'))}, ` +
        `old ${fmt(med(hw, 'old'), med(he, 'old'))}, large objects ${fmt(med(hw, 'large'), med(he, 'large'))}), in use ${fmt(med(hw, 'used'), med(he, 'used'))}; ` +
        `external ${fmt(med(hw, 'external'), med(he, 'external'))}; rest of RSS ${fmt(rest(hw, inWindow(rss, warmWindowStart, warmWindowStart + windowMs)), rest(he, inWindow(rss, until - windowMs, until)))}`,
    );
  }
}
console.log(`  serve RSS (medians of 10% windows): ${(warm.bytes / 2 ** 20).toFixed(1)} MiB after warm-up, ${(end.bytes / 2 ** 20).toFixed(1)} MiB at the end (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%), max ${(Math.max(...rss.map((s) => s.bytes)) / 2 ** 20).toFixed(1)} MiB`);
console.log(`  live keys (client's view): ${live.length}${LIVE > 0 ? ` (bound ${LIVE})` : ' (no bound)'}, ${revoked.length} revoked`);
if (snapshots.length === 2) {
  const [a, b] = snapshots;
  console.log(`  heap snapshots (after a full GC): ${a.label} at log head ${a.head}, ${a.live} live keys; ${b.label} at log head ${b.head}, ${b.live} live keys`);
  for (const line of heapGrowth(a.summary, b.summary, 15)) console.log(`    ${line}`);
}
console.log(`  error lines in serve's log: ${errorLines.length}${errorLines.length ? `, first: ${errorLines[0]}` : ''}`);
const failed = [
  violations.length > 0 && 'a revoked key got 200',
  !equal && 'the projection differs from a rebuild',
  verify.status !== 0 && 'audit verify failed',
  growth > 0.2 && 'RSS grew more than 20% after warm-up',
].filter(Boolean);
console.log(failed.length ? `FAIL: ${failed.join('; ')}` : 'PASS: all four checks hold');
agent.destroy();
serve.kill('SIGTERM');
projector.kill('SIGTERM');
await Promise.all([exited(serve), exited(projector)]);
redis.kill('SIGKILL');
process.exit(failed.length ? 1 : 0);

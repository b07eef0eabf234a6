// npm run bench:queries — the directory read model on bench:rebuild's log (1,000,000 events:
// 50,000 users, 250,000 tokens) on the default SQLite store, no Redis. Prints, asserts nothing:
// - directory rebuild rate (goal ≥ 50,000 events/s);
// - CLI processes, wall and peak RSS: `token list u1`, `user list --limit 50`, `audit --user u1`,
//   `token verify --at T` (goal ≤ 0.5 s, ≤ 120 MB each);
// - `serve` under wrk: GET /api/tokens/?user=u1 and GET /api/users/?search=u12, pages of 50 (goal
//   p99 ≤ 20 ms), and serve's RSS before and after 10,000 such requests (goal within 50 MB);
// - appends/s with and without a directory projector following the log, a process of its own with
//   serve's defaults (5,000 events per transaction, 100 ms poll), in BENCH_APPEND_ROUNDS rounds that
//   alternate which goes first, each on new files after a `sync`: the median of the rounds' ratios
//   (goal ≥ 0.90). BENCH_ONLY=appends runs this part alone (it needs no generated log).
// The log is generated once into the temp dir (the same generator as bench:rebuild; FRESH=1 makes
// it again, EVENTS=<n> changes its size); this bench appends to its own copy only. Run it under
// `flock /tmp/tl-bench.lock`. Needs `npm run build` and wrk.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendHistory } from './rebuild-history.mjs';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const APPEND_SECONDS = Number(process.env.BENCH_APPEND_SECONDS ?? 15);
const APPEND_ROUNDS = Number(process.env.BENCH_APPEND_ROUNDS ?? 5);
const APPENDS_ONLY = process.env.BENCH_ONLY === 'appends';
const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(tmpdir(), `tl-bench-rebuild-${EVENTS}`, 'events.db');
const dir = join(tmpdir(), `tl-bench-queries-${EVENTS}`);
const path = join(dir, 'events.db');
const store = `sqlite:${path}`;
const bin = join(root, 'bin/run.js');

const { SqliteEventStore } = await import(join(root, 'dist/src/eventstore/sqlite.js'));
const { SqliteDirectory } = await import(join(root, 'dist/src/directory/sqlite.js'));
const { DirectoryProjector } = await import(join(root, 'dist/src/directory/projector.js'));
const { loadSettings } = await import(join(root, 'dist/src/config.js'));
const { openLedger } = await import(join(root, 'dist/src/app/ledger.js'));

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const seconds = (from) => Number(process.hrtime.bigint() - from) / 1e9;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** bench:rebuild's log (generated there or here), copied so that this bench may append to it. */
async function prepareLog() {
  if (process.env.FRESH === '1' || !existsSync(source)) {
    mkdirSync(join(tmpdir(), `tl-bench-rebuild-${EVENTS}`), { recursive: true });
    rmSync(source, { force: true });
    const events = new SqliteEventStore(source);
    const started = process.hrtime.bigint();
    const users = Math.ceil(EVENTS / 20);
    const written = await appendHistory(events, { users, limit: EVENTS, onRound: (round, n) => console.log(`  generating: round ${round + 1}/3, ${fmt(n)} events`) });
    console.log(`generated ${fmt(written)} events (${fmt(users * 5)} tokens of ${fmt(users)} users) in ${seconds(started).toFixed(1)} s`);
    await events.close();
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The source is closed and checkpointed (no -wal to carry over) once its writer closed it.
  copyFileSync(source, path);
}

function measure(label, args, input = '') {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const child = spawnSyncTimed(args, input);
    runs.push(child);
  }
  runs.sort((a, b) => a.wall - b.wall);
  const median = runs[1];
  console.log(`  ${label.padEnd(34)} ${median.wall.toFixed(2)} s wall, ${fmt(median.rssMb)} MB peak RSS (median of 3; exit ${median.status})`);
  return median;
}

/** One CLI process under /usr/bin/time: wall seconds and peak RSS in MB. */
function spawnSyncTimed(args, input) {
  const result = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', process.execPath, bin, ...args], {
    cwd: root,
    env: { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' },
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const match = /TIME ([\d.]+) (\d+)\s*$/.exec(result.stderr);
  if (!match) throw new Error(`no timing for ${args.join(' ')}: ${result.stderr.slice(-500)}`);
  return { wall: Number(match[1]), rssMb: Number(match[2]) / 1024, status: result.status, stdout: result.stdout };
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

function wrk(url, key, secs, connections = 4) {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${secs}s`, '--latency', '-H', `Authorization: Token ${key}`, url], { encoding: 'utf8' });
  const unit = (text) => Number(/^([\d.]+)/.exec(text)[1]) * { us: 1e-3, ms: 1, s: 1e3 }[/(us|ms|s)$/.exec(text)[1]];
  return {
    requests: Number(/(\d+) requests in/.exec(out)[1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
    p50: unit(/\s50%\s+(\S+)/.exec(out)[1]),
    p99: unit(/\s99%\s+(\S+)/.exec(out)[1]),
    refused: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

/** CPU seconds a process has used so far (utime + stime from /proc, in clock ticks of 10 ms). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

async function appendsPerSecond(withProjector) {
  const base = join(dir, `appends-${withProjector ? 'with' : 'without'}`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const log = join(base, 'events.db');
  const directoryFile = join(base, 'events.directory.db');
  const events = new SqliteEventStore(log);
  let projector = null;
  if (withProjector) {
    projector = spawn(process.execPath, [join(root, 'test/helpers/directory-projector.mjs'), log, directoryFile, '5000', '100'], { stdio: 'ignore' });
    await sleep(300);
  }
  // What earlier rounds and phases left dirty in the page cache is written out first, not during this round.
  execFileSync('sync');
  // Appends as `token create` makes them (one user's events per append, durable each), from
  // 8 concurrent writers for APPEND_SECONDS.
  const deadline = Date.now() + APPEND_SECONDS * 1_000;
  let appended = 0;
  const writer = async (w) => {
    for (let i = 0; Date.now() < deadline; i++) {
      await events.append(`user-w${w}-${i}`, [{ type: 'UserRegistered', data: { userId: `${w}-${i}`, username: `w${w}-${i}`, isStaff: false, isSuperuser: false, passwordHash: null, at: new Date().toISOString() }, metadata: { at: new Date().toISOString() } }], 'no_stream');
      appended += 1;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
  const rate = appended / seconds(started);
  let projectorNote = '';
  if (projector) {
    const cpu = cpuSeconds(projector.pid);
    projector.kill('SIGKILL');
    await new Promise((resolve) => projector.once('exit', resolve));
    const directory = new SqliteDirectory(directoryFile);
    const lag = (await events.headPosition()) - (await directory.checkpoint());
    await directory.close();
    projectorNote = `; projector ${cpu.toFixed(1)} CPU s (${((cpu * 1e6) / appended).toFixed(0)} µs/event), ${fmt(Number(lag))} events behind at the end`;
  }
  await events.close();
  return { rate, projectorNote };
}

/** Rounds of appends without and with a projector, alternating which runs first; the median ratio. */
async function appendRounds() {
  const ratios = [];
  for (let round = 0; round < APPEND_ROUNDS; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    const result = {};
    for (const withProjector of order) result[withProjector] = await appendsPerSecond(withProjector);
    const ratio = result[true].rate / result[false].rate;
    ratios.push(ratio);
    console.log(`  round ${round + 1}: ${fmt(result[false].rate)} appends/s without, ${fmt(result[true].rate)} with: ${ratio.toFixed(2)}${result[true].projectorNote}`);
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
  console.log(`appends/s with a directory projector / without (8 writers, ${APPEND_SECONDS} s, ${APPEND_ROUNDS} rounds): median ratio ${median.toFixed(2)} (goal ≥ 0.90)`);
}

if (APPENDS_ONLY) {
  mkdirSync(dir, { recursive: true });
  console.log('bench:queries — appends with and without a directory projector only');
  await appendRounds();
  process.exit(0);
}

spawnSync('wrk', ['--version'], { stdio: 'ignore' }); // (wrk --version exits 1)
console.log(`bench:queries — ${fmt(EVENTS)} events (SQLite log, no Redis)`);
await prepareLog();

// 1. Directory rebuild rate (the directory file beside the log, as a CLI would make it).
{
  const events = new SqliteEventStore(path);
  const directory = new SqliteDirectory(join(dir, 'events.directory.db'));
  const started = process.hrtime.bigint();
  const result = await new DirectoryProjector(events, directory).rebuild();
  const took = seconds(started);
  console.log(`directory rebuild: ${fmt(result.events)} events in ${took.toFixed(1)} s = ${fmt(result.events / took)} events/s (goal ≥ 50,000)`);
  await directory.close();
  await events.close();
}

// A real key of u1 for token verify, issued now: T is a moment when it was valid.
const ledger = await openLedger({ settings: loadSettings({}, { TOKENLEDGER_STORE: store }) });
const verifyKey = (await ledger.issueToken({ username: 'u1', name: 'bench-verify' })).key;
const staffKey = (await ledger.issueToken({ username: 'u0', name: 'bench-staff' })).key; // u0 is staff
await ledger.close();
// The generated history is dated 2030 (bench/rebuild-history.mjs): T is after all of it.
const at = '2030-06-01T00:00:00.000Z';

console.log('CLI processes (goal ≤ 0.5 s wall, ≤ 120 MB RSS each):');
[
  measure('token list u1', ['token', 'list', 'u1']),
  measure('user list --limit 50', ['user', 'list', '--limit', '50']),
  measure('audit --user u1', ['audit', '--user', 'u1']),
  measure(`token verify --at ${at}`, ['token', 'verify', '--at', at], `${verifyKey}\n`),
];
measure('(for scale) --version', ['--version']);

// 3. serve under wrk.
const port = 18_000 + (process.pid % 1_000);
const server = spawn(process.execPath, [bin, 'serve', '--port', String(port)], {
  cwd: root,
  env: { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn', TOKENLEDGER_LOGIN_THROTTLE: 'off' },
  stdio: 'ignore',
});
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    if (i > 600) throw new Error('serve did not start');
    await sleep(100);
  }
  const targets = [
    ['GET /api/tokens/?user=u1', `${base}/api/tokens/?user=u1`],
    ['GET /api/users/?search=u12', `${base}/api/users/?search=u12`],
  ];
  for (const [, url] of targets) wrk(url, staffKey, 2); // warm-up
  const before = rssMb(server.pid);
  let requests = 0;
  console.log('serve under wrk, 4 connections (goal p99 ≤ 20 ms):');
  for (const [label, url] of targets) {
    const r = wrk(url, staffKey, 4);
    requests += r.requests;
    console.log(`  ${label.padEnd(30)} ${fmt(r.rps)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, non-2xx ${r.refused}`);
  }
  while (requests < 10_000) requests += wrk(targets[requests % 2 === 0 ? 0 : 1][1], staffKey, 2).requests;
  const after = rssMb(server.pid);
  console.log(`serve RSS: ${before.toFixed(0)} MB before, ${after.toFixed(0)} MB after ${fmt(requests)} list requests (+${(after - before).toFixed(0)} MB; goal ≤ 50 MB)`);
} finally {
  server.kill('SIGTERM');
}

// 4. Appends with and without a directory projector.
console.log('appends with and without a directory projector:');
await appendRounds();

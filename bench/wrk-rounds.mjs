// What the two HTTP benches (bench:auth, bench:http) share: a key to send, wrk runs against server
// processes interleaved in rounds, fresh server processes every round, medians and ratios.
//
// Why fresh processes: on this 2-core VM two processes of the same build, measured back to back
// against each other for ten rounds, differed by 12% in req/s (the median of their per-round
// ratios was 1.12, though the code was identical); with both restarted every round the same
// comparison gave 0.998. A process keeps its luck (where its memory and its JIT code landed,
// which core it mostly ran on) for its whole life, so a ratio between two long-lived processes
// measures their luck as much as their code. Each round therefore starts every variant anew,
// warms it up, measures all of them in turns (slices of a second, the order rotating each round)
// and stops them; a ratio is the median over rounds of the per-round ratios.
//
// Why slices and a 2 s warm-up: on the VM of 2026-11-30's evening session a server's first second
// ran at two thirds of its later speed, and the machine's speed moved by up to 30% from one minute
// to the next; with 1 s of warm-up and each variant's 4 s in one piece, single rounds of the same
// comparison ranged 0.56–1.70.
//
// Knobs of both benches: BENCH_ROUNDS (9), BENCH_SECONDS (4), BENCH_SLICES (4), BENCH_WARMUP (2),
// BENCH_CONNECTIONS (bench's own default).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

export function knobs(connections) {
  return {
    rounds: Number(process.env.BENCH_ROUNDS ?? 9),
    seconds: Number(process.env.BENCH_SECONDS ?? 4),
    connections: Number(process.env.BENCH_CONNECTIONS ?? connections),
    slices: Number(process.env.BENCH_SLICES ?? 4),
    warmup: Number(process.env.BENCH_WARMUP ?? 2),
  };
}

/** Exits with a hint when the build or wrk is missing. */
export function requireBuildAndWrk() {
  if (!existsSync(new URL('../dist/src/koa/index.js', import.meta.url))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    if (error.code === 'ENOENT') {
      console.error("wrk is not installed: `apt-get update && apt-get install -y wrk` (Debian's package)");
      process.exit(1);
    }
  }
}

/** A user alice with one token in a new SQLite log at `store` (`sqlite:<file>`); returns the key. */
export async function issueAliceKey(store) {
  const { loadSettings } = await import('../dist/src/config.js');
  const { openLedger } = await import('../dist/src/app/ledger.js');
  const ledger = await openLedger({ settings: loadSettings({}, { TOKENLEDGER_STORE: store }) });
  try {
    await ledger.registerUser({ username: 'alice', password: null });
    return (await ledger.issueToken({ username: 'alice' })).key;
  } finally {
    await ledger.close();
  }
}

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (user + system) a process has used so far, in µs: from /proc, so it ignores time spent waiting for a core. */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const UNIT = { us: 1e-3, ms: 1, s: 1e3 };
const ms = (text) => Number(/^([\d.]+)/.exec(text)[1]) * UNIT[/(us|ms|s)$/.exec(text)[1]];

/**
 * One wrk run (one thread, `connections` connections) with the key in the Authorization header.
 * Returns req/s, p50 and p99 in ms, answers other than 2xx/3xx, the server's CPU per request in µs
 * (what the machine's other load cannot inflate much, unlike req/s; only the process `pid` itself,
 * not its children), and the raw counts (requests, seconds, CPU µs) that `combine` adds up.
 */
export function wrk({ url, key, seconds, connections, pid }) {
  const cpuBefore = cpuUs(pid);
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', `Authorization: Token ${key}`, url], { encoding: 'utf8' });
  const cpu = cpuUs(pid) - cpuBefore;
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  return {
    rps,
    p50: ms(/\s50%\s+(\S+)/.exec(out)[1]),
    p99: ms(/\s99%\s+(\S+)/.exec(out)[1]),
    refused: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    cpuUs: cpu / requests,
    requests,
    // wrk prints its duration with two decimals ("1.00s"); req/s is the finer figure.
    seconds: requests / rps,
    cpu,
  };
}

/** Several slices of one variant's measurement as one result: req/s and CPU per request over all of them, the slices' median p50 and p99. */
function combine(slices) {
  const requests = slices.reduce((n, r) => n + r.requests, 0);
  const seconds = slices.reduce((n, r) => n + r.seconds, 0);
  const cpu = slices.reduce((n, r) => n + r.cpu, 0);
  return {
    rps: requests / seconds,
    p50: median(slices.map((r) => r.p50)),
    p99: median(slices.map((r) => r.p99)),
    refused: slices.reduce((n, r) => n + r.refused, 0),
    cpuUs: cpu / requests,
    requests,
    seconds,
    cpu,
  };
}

const live = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL');
    process.exit(130);
  });
}

/**
 * Starts a server process and resolves with `{ child, url }` once `ready(output)` (its stdout and
 * stderr so far) returns its URL; fails after 30 s, killing it. `stdout` may be a file descriptor
 * to send its output to (the service's request log).
 */
export function startProcess(command, args, env, { stdout = 'pipe', cwd, ready }) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Promise((resolve, reject) => {
    let text = '';
    const fail = (error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${[command, ...args].join(' ')}: not ready within 30 s: ${text}`)), 30_000);
    const onExit = (code, signal) => fail(new Error(`${[command, ...args].join(' ')} exited (${code ?? signal}): ${text}`));
    const look = (chunk) => {
      text += chunk;
      const url = ready(text);
      if (url === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      for (const stream of [child.stdout, child.stderr]) stream?.off('data', look).resume(); // drained, unread
      resolve({ child, url });
    };
    child.stdout?.setEncoding('utf8').on('data', look);
    child.stderr.setEncoding('utf8').on('data', look);
    child.once('exit', onExit);
  });
}

/**
 * A Node server: `tokenledger serve` says `listening on <url>`, bench/auth-server.mjs `listening <port>`.
 */
export function startServer(args, env, stdout = 'pipe') {
  return startProcess(process.execPath, args, env, {
    stdout,
    ready: (text) => {
      const found = /listening (?:on (http:\/\/\S+)|(\d+))/.exec(text);
      return found ? (found[1] ?? `http://127.0.0.1:${found[2]}`) : undefined;
    },
  });
}

/** SIGTERM, then SIGKILL if it is still there after 5 s; resolves once it has exited. */
export async function stopServer({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * `rounds` rounds; in each, every variant's server is started fresh (`variants[name].start()`
 * resolves to a started server), checked with `check(name, url)`, warmed up for `warmup` seconds,
 * then all are measured for `seconds` each and stopped. A variant's `seconds` are measured in
 * `slices` parts taken in turn with the other variants' (a b c a b c …, the order rotating every
 * round), so that a minute in which the machine runs slower (another tenant of the VM's host,
 * seen here as 30% swings between consecutive seconds) falls on every variant alike instead of on
 * whichever ran then. Each variant sends its own `key` and asks for its own `path` (default `/`).
 * Calls `report(round, name, result)` after each round's measurement of a variant and returns every
 * result by variant name, in round order.
 *
 * Knobs (see `knobs`): BENCH_WARMUP (seconds, default 2), BENCH_SLICES (default 4).
 */
export async function interleavedRounds({
  variants,
  rounds,
  seconds,
  warmup = knobs().warmup,
  slices = knobs().slices,
  connections,
  check,
  report,
}) {
  const names = Object.keys(variants);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  const target = (name, server) => ({ url: new URL(variants[name].path ?? '/', server.url).href, key: variants[name].key, connections, pid: server.child.pid });
  const slice = seconds / slices;
  if (!Number.isInteger(slice) || slice < 1) throw new Error(`BENCH_SECONDS (${seconds}) must be a whole number of seconds per slice (BENCH_SLICES ${slices})`);
  for (let round = 0; round < rounds; round++) {
    const servers = {};
    try {
      for (const name of names) servers[name] = await variants[name].start();
      for (const name of names) {
        await check?.(name, target(name, servers[name]).url);
        if (warmup > 0) wrk({ ...target(name, servers[name]), seconds: warmup });
      }
      const order = names.map((_, i) => names[(i + round) % names.length]);
      const taken = Object.fromEntries(names.map((name) => [name, []]));
      for (let part = 0; part < slices; part++) {
        for (const name of order) taken[name].push(wrk({ ...target(name, servers[name]), seconds: slice }));
      }
      for (const name of order) {
        const result = combine(taken[name]);
        results[name].push(result);
        report?.(round + 1, name, result);
      }
    } finally {
      await Promise.all(Object.values(servers).map(stopServer));
    }
  }
  return results;
}

/** Per variant: the medians over rounds of req/s, p50, p99 and server CPU per request. */
export function summarize(results) {
  return Object.fromEntries(
    Object.entries(results).map(([name, rs]) => [
      name,
      { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpuUs: median(rs.map((r) => r.cpuUs)) },
    ]),
  );
}

/** The median over rounds of `variant`'s req/s divided by `base`'s in the same round (each pair ran back to back). */
export function pairedRatio(results, variant, base) {
  const perRound = results[variant].map((r, i) => r.rps / results[base][i].rps);
  return { ratio: median(perRound), perRound };
}

/** `met` or `MISSED`, for a printed goal. */
export const verdict = (value, goal) => (value >= goal ? 'met' : 'MISSED');

// The DRF reference peer (../shared/drf-peer): Django REST framework's TokenAuthentication under
// gunicorn, 2 sync workers, GET /api/whoami/ with its fixed key for alice (its setup.sh).
const DRF_PEER = process.env.TOKENLEDGER_DRF_PEER ?? new URL('../../shared/drf-peer', import.meta.url).pathname;
const DRF_KEY = '9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b';

/** The DRF peer as a bench variant, when it is installed here (sh ../shared/drf-peer/install.sh); else null. */
export function drfPeerVariant(dir) {
  if (!existsSync(`${DRF_PEER}/serve.sh`)) return null;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import rest_framework, django'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const env = { DRF_DB: `${dir}/drf.sqlite3` };
  execFileSync('sh', [`${DRF_PEER}/setup.sh`], { env: { ...process.env, ...env }, stdio: 'ignore' });
  let port = 18_801;
  return {
    key: DRF_KEY,
    path: '/api/whoami/',
    start: async () => {
      port += 1; // a fresh port each round: the last one may linger in TIME_WAIT
      const server = await startProcess('/usr/bin/gunicorn', ['drfpeer.wsgi:application', '--bind', `127.0.0.1:${port}`, '--workers', '2', '--log-level', 'info'], env, {
        cwd: DRF_PEER,
        ready: (text) => (/Listening at/.test(text) ? `http://127.0.0.1:${port}` : undefined),
      });
      // Listening is not loaded: each worker imports Django on its own.
      for (let i = 0; i < 200; i++) {
        const ok = await fetch(`${server.url}/api/whoami/`, { headers: { authorization: `Token ${DRF_KEY}` } }).then((r) => r.ok, () => false);
        if (ok) return server;
        await new Promise((done) => setTimeout(done, 50));
      }
      await stopServer(server);
      throw new Error(`the DRF peer on port ${port} did not answer within 10 s`);
    },
  };
}

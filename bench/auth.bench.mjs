// npm run bench:auth — issue 3's middleware bench. wrk against three servers, interleaved in one
// run: (a) bare Koa answering {"username":"alice"}, (b) the same app behind tokenAuth on the
// Redis projection, (c) behind tokenAuth on the memory projection. Prints req/s, p50, p99 and
// the ratios b/a and c/a (goals: ≥ 0.85 and ≥ 0.95). Figures only: nothing is asserted.
//
// Knobs: BENCH_ROUNDS (5), BENCH_SECONDS (5), BENCH_CONNECTIONS (32), REDIS_URL (redis://127.0.0.1:6379).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const VARIANTS = ['bare', 'redis', 'memory'];
const LABEL = { bare: '(a) bare Koa', redis: '(b) tokenAuth, Redis', memory: '(c) tokenAuth, memory' };

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

const dir = mkdtempSync(join(tmpdir(), 'tl-bench-auth-'));
const prefix = `tokenledger-bench:auth-${process.pid}:`;
const env = { ...process.env, TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: prefix };

async function issueKey() {
  const { loadSettings } = await import('../dist/src/config.js');
  const { openLedger } = await import('../dist/src/app/ledger.js');
  const ledger = await openLedger({ settings: loadSettings({}, { TOKENLEDGER_STORE: env.TOKENLEDGER_STORE }) });
  await ledger.registerUser({ username: 'alice', password: null });
  const { key } = await ledger.issueToken({ username: 'alice' });
  await ledger.close();
  return key;
}

function startServer(variant) {
  const child = spawn(process.execPath, [new URL('./auth-server.mjs', import.meta.url).pathname, variant], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      const match = /listening (\d+)/.exec(String(chunk));
      if (match) resolve({ child, url: `http://127.0.0.1:${match[1]}/` });
    });
  });
}

const UNIT = { us: 1e-3, ms: 1, s: 1e3 };
const ms = (text) => Number(/^([\d.]+)/.exec(text)[1]) * UNIT[/(us|ms|s)$/.exec(text)[1]];

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (user + system) a process has used so far, in µs: from /proc, so it ignores time spent waiting for a core. */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

function wrk(server, key, seconds) {
  const url = server.url;
  const cpuBefore = cpuUs(server.child.pid);
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `Authorization: Token ${key}`, url], { encoding: 'utf8' });
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  return {
    // Under heavy machine load a lookup can outlive its 250 ms bound: those answers are 503s, counted and shown.
    refused: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    // Server CPU per request: what the machine's other load cannot inflate much, unlike req/s.
    cpuPerReq: (cpuUs(server.child.pid) - cpuBefore) / requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
    p50: ms(/\s50%\s+(\S+)/.exec(out)[1]),
    p99: ms(/\s99%\s+(\S+)/.exec(out)[1]),
  };
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const fmt = (n, digits = 0) => n.toFixed(digits).padStart(9);

const key = await issueKey();
const servers = {};
try {
  for (const variant of VARIANTS) servers[variant] = await startServer(variant);
  for (const variant of VARIANTS) {
    const response = await fetch(servers[variant].url, { headers: { authorization: `Token ${key}` } });
    const body = await response.text();
    if (response.status !== 200 || body !== '{"username":"alice"}') throw new Error(`${variant}: ${response.status} ${body}`);
    wrk(servers[variant], key, 2); // warm-up, not counted
  }

  console.log(`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} rounds, variants interleaved (order rotates each round)`);
  const runs = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    const line = [];
    for (const variant of order) {
      const result = wrk(servers[variant], key, SECONDS);
      runs[variant].push(result);
      line.push(`${variant} ${result.rps.toFixed(0)}${result.refused ? ` (${result.refused} not 200)` : ''}`);
    }
    console.log(`  round ${round + 1}: ${line.join(', ')} req/s`);
  }

  console.log('\nvariant                    req/s   p50 ms   p99 ms   server CPU µs/req   (medians over rounds)');
  const summary = {};
  for (const variant of VARIANTS) {
    const r = runs[variant];
    summary[variant] = {
      rps: median(r.map((x) => x.rps)),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
      cpu: median(r.map((x) => x.cpuPerReq)),
    };
    const s = summary[variant];
    console.log(`${LABEL[variant].padEnd(22)}${fmt(s.rps)}${fmt(s.p50, 2)}${fmt(s.p99, 2)}${fmt(s.cpu, 1).padStart(20)}`);
  }
  // Paired per round (each pair ran back to back), so the medians resist the machine's other load.
  for (const [variant, goal] of [['redis', 0.85], ['memory', 0.95]]) {
    const perRound = runs[variant].map((x, i) => x.rps / runs.bare[i].rps);
    const ratio = median(perRound);
    const cpuRatio = summary.bare.cpu / summary[variant].cpu;
    console.log(
      `${variant === 'redis' ? 'b/a' : 'c/a'} = ${ratio.toFixed(3)} req/s (goal ≥ ${goal}: ${ratio >= goal ? 'met' : 'MISSED'}), ` +
        `per round ${perRound.map((x) => x.toFixed(2)).join(' ')}; by server CPU per request: ${cpuRatio.toFixed(3)}`,
    );
  }
  const refused = VARIANTS.map((v) => [v, runs[v].reduce((n, x) => n + x.refused, 0)]).filter(([, n]) => n > 0);
  if (refused.length > 0) console.log(`WARNING: answers other than 200: ${refused.map(([v, n]) => `${v} ${n}`).join(', ')} (503s: lookups past 250 ms on a starved machine)`);
  console.log('(b) also costs redis-server CPU on this machine, which the server CPU figure leaves out');
  console.log('for scale: DRF TokenAuthentication under gunicorn does about 500 req/s here (shared/drf-peer/README.md)');
} finally {
  for (const { child } of Object.values(servers)) {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
  const redis = new Redis(REDIS_URL);
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
}

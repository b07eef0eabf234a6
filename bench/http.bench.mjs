// npm run bench:http — authenticated GET /api/whoami/ on the real service (`tokenledger serve`:
// memory projection, pino logging one line per request to a file, metrics on) against the bare
// Koa app of the middleware bench, interleaved with wrk in one run. Prints req/s, latency and the ratio; asserts nothing.
// Needs a build (npm run build) and wrk (apt-get install wrk).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SECONDS = Number(process.env.SECONDS ?? 4);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const DRF_RPS = 500;

function start(args, env, logFile) {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', out === 'ignore' ? 'pipe' : out, 'pipe'] });
  return new Promise((done, fail) => {
    let text = '';
    const look = (chunk) => {
      text += chunk;
      // `tokenledger serve` says "listening on <url>"; the auth bench's servers say "listening <port>".
      const found = /listening (?:on (http:\/\/\S+)|(\d+))/.exec(text);
      if (found) done({ child, url: found[1] ?? `http://127.0.0.1:${found[2]}` });
    };
    child.stdout?.setEncoding('utf8').on('data', look);
    child.stderr.setEncoding('utf8').on('data', look);
    child.once('exit', (code) => fail(new Error(`${args.join(' ')} exited ${code}: ${text}`)));
  });
}

/** CPU time (user + system, ms) a process has used so far: Linux /proc, 100 ticks per second. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function wrk(url, key, seconds, pid) {
  const cpu = cpuMs(pid);
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `Authorization: Token ${key}`, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const pct = (p) => /(\d+\.?\d*)(us|ms|s)\b/.exec(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)[1]);
  const ms = (m) => Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (errors) throw new Error(`${url}: ${errors[1]} non-2xx responses`);
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  return { rps, p50: ms(pct(50)), p99: ms(pct(99)), cpuUs: ((cpuMs(pid) - cpu) * 1000) / requests };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'tl-bench-http-'));
const store = `sqlite:${join(dir, 'events.db')}`;
const logFile = join(dir, 'serve.log');
const { loadSettings } = await import(resolve('dist/src/config.js'));
const { openLedger } = await import(resolve('dist/src/app/ledger.js'));
const ledger = await openLedger({ settings: { ...loadSettings({}, {}), store } });
await ledger.registerUser({ username: 'alice', password: null });
const { key } = await ledger.issueToken({ username: 'alice' });
await ledger.close();

const service = await start([resolve('bin/run.js'), 'serve', '--port', '0'], { TOKENLEDGER_STORE: store, LOG_LEVEL: 'info' }, logFile);
// The baseline is the bare Koa app of the middleware bench (bench/auth-server.mjs bare).
const bare = await start([resolve('bench/auth-server.mjs'), 'bare'], {});
const servers = { bare, service };
// BREAKDOWN=1 adds, for the record, the service with logging off and the middleware bench's
// tokenAuth on the memory projection, to show where the gap to bare Koa goes.
if (process.env.BREAKDOWN === '1') {
  servers.nolog = await start([resolve('bin/run.js'), 'serve', '--port', '0'], { TOKENLEDGER_STORE: store, LOG_LEVEL: 'silent' }, join(dir, 'nolog.log'));
  servers.mw = await start([resolve('bench/auth-server.mjs'), 'memory'], { TOKENLEDGER_STORE: store });
}
const targets = Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, `${s.url}/api/whoami/`]));
const pids = Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, s.child.pid]));
try {
  const check = execFileSync('curl', ['-fsS', '-H', `Authorization: Token ${key}`, targets.service], { encoding: 'utf8' });
  if (!check.startsWith('{"username":"alice"')) throw new Error(`unexpected whoami: ${check}`);
  console.log(`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} interleaved rounds (after a 2 s warm-up each)`);
  console.log(`service: tokenledger serve, SQLite + memory projection, pino to ${logFile}, /metrics on`);
  for (const name of Object.keys(targets)) wrk(targets[name], key, 2, pids[name]);
  const results = Object.fromEntries(Object.keys(servers).map((name) => [name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    const names = Object.keys(servers);
    const order = round % 2 ? names : names.reverse();
    for (const name of order) {
      const r = wrk(targets[name], key, SECONDS, pids[name]);
      results[name].push(r);
      console.log(`round ${round} ${name.padEnd(7)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${r.cpuUs.toFixed(0)} µs CPU/request`);
    }
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, rs]) => [
      name,
      { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpuUs: median(rs.map((r) => r.cpuUs)) },
    ]),
  );
  console.log('');
  for (const [name, s] of Object.entries(summary)) {
    console.log(`${name.padEnd(7)} median ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  ${s.cpuUs.toFixed(0)} µs CPU/request`);
  }
  const ratio = summary.service.rps / summary.bare.rps;
  console.log(`service / bare Koa, req/s: ${ratio.toFixed(3)} (goal >= 0.80)`);
  // Less sensitive to other load on the machine than req/s: what one request costs each server.
  console.log(`service / bare Koa, by CPU per request: ${(summary.bare.cpuUs / summary.service.cpuUs).toFixed(3)}`);
  for (const name of ['nolog', 'mw']) {
    if (summary[name]) console.log(`${name} / bare Koa, req/s: ${(summary[name].rps / summary.bare.rps).toFixed(3)}, by CPU: ${(summary.bare.cpuUs / summary[name].cpuUs).toFixed(3)}`);
  }
  console.log(`service / DRF (~${DRF_RPS} req/s here): ${(summary.service.rps / DRF_RPS).toFixed(1)}x (goal >= 15x)`);
  console.log(`the service logged ${(statSync(logFile).size / 1e6).toFixed(1)} MB of request lines meanwhile`);
} finally {
  for (const { child } of Object.values(servers)) child.kill('SIGTERM');
  await Promise.all(Object.values(servers).map(({ child }) => new Promise((done) => (child.exitCode !== null ? done() : child.once('exit', done)))));
  rmSync(dir, { recursive: true, force: true });
}

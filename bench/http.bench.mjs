// npm run bench:http — authenticated GET /api/whoami/ on the real service (`tokenledger serve`:
// memory projection, pino logging one line per request to a file, metrics on) against the bare
// Koa app of the middleware bench, interleaved with wrk in one run, fresh server processes every
// round (see bench/wrk-rounds.mjs for why). Prints req/s, latency and the ratio; asserts nothing.
// Needs a build (npm run build) and wrk (apt-get install wrk).
//
// Knobs: ROUNDS (9), SECONDS (4), CONNECTIONS (50); BREAKDOWN=1 adds two variants (below).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { interleavedRounds, median, pairedRatio, requireWrk, startServer } from './wrk-rounds.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const SECONDS = Number(process.env.SECONDS ?? 4);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const DRF_RPS = 500;

requireWrk();
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-http-'));
const store = `sqlite:${join(dir, 'events.db')}`;
const logFile = join(dir, 'serve.log');
const { loadSettings } = await import(resolve('dist/src/config.js'));
const { openLedger } = await import(resolve('dist/src/app/ledger.js'));
const ledger = await openLedger({ settings: { ...loadSettings({}, {}), store } });
await ledger.registerUser({ username: 'alice', password: null });
const { key } = await ledger.issueToken({ username: 'alice' });
await ledger.close();

/** `tokenledger serve` with its request log appended to `file`. */
async function serve(env, file) {
  const out = openSync(file, 'a');
  try {
    return await startServer([resolve('bin/run.js'), 'serve', '--port', '0'], { TOKENLEDGER_STORE: store, ...env }, out);
  } finally {
    closeSync(out); // the child holds its own copy
  }
}

const variants = {
  service: () => serve({ LOG_LEVEL: 'info' }, logFile),
  // The baseline is the bare Koa app of the middleware bench (bench/auth-server.mjs bare).
  bare: () => startServer([resolve('bench/auth-server.mjs'), 'bare'], {}),
};
// BREAKDOWN=1 adds, for the record, the service with logging off and the middleware bench's
// tokenAuth on the memory projection, to show where the gap to bare Koa goes.
if (process.env.BREAKDOWN === '1') {
  variants.nolog = () => serve({ LOG_LEVEL: 'silent' }, join(dir, 'nolog.log'));
  variants.mw = () => startServer([resolve('bench/auth-server.mjs'), 'memory'], { TOKENLEDGER_STORE: store });
}

try {
  console.log(`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} interleaved rounds, fresh servers each round (after a 1 s warm-up each)`);
  console.log(`service: tokenledger serve, SQLite + memory projection, pino to ${logFile}, /metrics on`);
  const results = await interleavedRounds({
    variants,
    rounds: ROUNDS,
    seconds: SECONDS,
    connections: CONNECTIONS,
    key,
    path: '/api/whoami/',
    check: (name, url) => {
      if (name !== 'service') return;
      const body = execFileSync('curl', ['-fsS', '-H', `Authorization: Token ${key}`, url], { encoding: 'utf8' });
      if (!body.startsWith('{"username":"alice"')) throw new Error(`unexpected whoami: ${body}`);
    },
    report: (round, name, r) => {
      if (r.refused > 0) throw new Error(`${name}: ${r.refused} answers other than 2xx`);
      console.log(`round ${round} ${name.padEnd(7)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${r.cpuUs.toFixed(0)} µs CPU/request`);
    },
  });
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
  // Paired per round (each pair ran back to back), so the median resists the machine's other load.
  const { ratio, perRound } = pairedRatio(results, 'service', 'bare');
  console.log(`service / bare Koa, req/s: ${ratio.toFixed(3)} (goal >= 0.80: ${ratio >= 0.8 ? 'met' : 'MISSED'}), per round ${perRound.map((x) => x.toFixed(2)).join(' ')}`);
  // Less sensitive to other load on the machine than req/s: what one request costs each server.
  console.log(`service / bare Koa, by CPU per request: ${(summary.bare.cpuUs / summary.service.cpuUs).toFixed(3)}`);
  for (const name of ['nolog', 'mw']) {
    if (summary[name]) console.log(`${name} / bare Koa, req/s: ${pairedRatio(results, name, 'bare').ratio.toFixed(3)}, by CPU: ${(summary.bare.cpuUs / summary[name].cpuUs).toFixed(3)}`);
  }
  console.log(`service / DRF (~${DRF_RPS} req/s here): ${(summary.service.rps / DRF_RPS).toFixed(1)}x (goal >= 15x)`);
  console.log(`the service logged ${(statSync(logFile).size / 1e6).toFixed(1)} MB of request lines meanwhile`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

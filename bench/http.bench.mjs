// npm run bench:http — authenticated GET /api/whoami/ on the real service (`tokenledger serve`:
// memory projection, pino logging one line per request to a file, metrics on) against the bare
// Koa app of the middleware bench and, when ../shared/drf-peer is installed, the real DRF under
// gunicorn, interleaved with wrk in one run, fresh server processes every round (see
// bench/wrk-rounds.mjs for why). Prints req/s, latency and the ratios; asserts nothing.
// Needs a build (npm run build) and wrk (apt-get install wrk).
//
// Knobs: BENCH_ROUNDS (9), BENCH_SECONDS (4), BENCH_CONNECTIONS (50); BREAKDOWN=1 adds two variants (below).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drfPeerVariant, interleavedRounds, issueAliceKey, knobs, pairedRatio, requireBuildAndWrk, startServer, summarize, verdict } from './wrk-rounds.mjs';

const { rounds, seconds, connections, slices, warmup } = knobs(50);
const root = new URL('..', import.meta.url).pathname;
// The figure in ../shared/drf-peer/README.md, used only when the peer is not installed here.
const DRF_RPS_NOTED = 500;

requireBuildAndWrk();
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-http-'));
const store = `sqlite:${join(dir, 'events.db')}`;
const logFile = join(dir, 'serve.log');

/** `tokenledger serve` with its request log appended to `file`. */
async function serve(env, file) {
  const out = openSync(file, 'a');
  try {
    return await startServer([join(root, 'bin/run.js'), 'serve', '--port', '0'], { TOKENLEDGER_STORE: store, ...env }, out);
  } finally {
    closeSync(out); // the child holds its own copy
  }
}

try {
  const key = await issueAliceKey(store);
  const path = '/api/whoami/';
  const variants = {
    service: { key, path, start: () => serve({ LOG_LEVEL: 'info' }, logFile) },
    // The baseline is the bare Koa app of the middleware bench (bench/auth-server.mjs bare).
    bare: { key, path, start: () => startServer([join(root, 'bench/auth-server.mjs'), 'bare'], {}) },
  };
  const drf = drfPeerVariant(dir);
  if (drf) variants.drf = drf;
  // BREAKDOWN=1 adds, for the record, the service with logging off and the middleware bench's
  // tokenAuth on the memory projection, to show where the gap to bare Koa goes.
  if (process.env.BREAKDOWN === '1') {
    variants.nolog = { key, path, start: () => serve({ LOG_LEVEL: 'silent' }, join(dir, 'nolog.log')) };
    variants.mw = { key, path, start: () => startServer([join(root, 'bench/auth-server.mjs'), 'memory'], { TOKENLEDGER_STORE: store }) };
  }

  console.log(
    `wrk -t1 -c${connections}, ${rounds} interleaved rounds, fresh servers each round (after a ${warmup} s warm-up each), ${seconds} s per variant in ${slices} slices taken in turn`,
  );
  console.log(`service: tokenledger serve, SQLite + memory projection, pino to ${logFile}, /metrics on`);
  console.log(drf ? 'drf: the DRF reference peer (../shared/drf-peer), gunicorn, 2 sync workers' : `drf: not measured (../shared/drf-peer is not installed: sh ../shared/drf-peer/install.sh)`);
  const results = await interleavedRounds({
    variants,
    rounds,
    seconds,
    connections,
    check: (name, url) => {
      if (name !== 'service') return;
      const body = execFileSync('curl', ['-fsS', '-H', `Authorization: Token ${key}`, url], { encoding: 'utf8' });
      if (!body.startsWith('{"username":"alice"')) throw new Error(`unexpected whoami: ${body}`);
    },
    report: (round, name, r) => {
      if (r.refused > 0) throw new Error(`${name}: ${r.refused} answers other than 2xx`);
      // The CPU figure is the process wrk talked to: for gunicorn that is the master, not its workers.
      const cpu = name === 'drf' ? '' : `  ${r.cpuUs.toFixed(0)} µs CPU/request`;
      console.log(`round ${round} ${name.padEnd(7)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms${cpu}`);
    },
  });
  const summary = summarize(results);
  console.log('');
  for (const [name, s] of Object.entries(summary)) {
    const cpu = name === 'drf' ? '' : `  ${s.cpuUs.toFixed(0)} µs CPU/request`;
    console.log(`${name.padEnd(7)} median ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms${cpu}`);
  }
  const { ratio, perRound } = pairedRatio(results, 'service', 'bare');
  console.log(`service / bare Koa, req/s: ${ratio.toFixed(3)} (goal >= 0.80: ${verdict(ratio, 0.8)}), median of per-round ratios ${perRound.map((x) => x.toFixed(2)).join(' ')}`);
  // Less sensitive to other load on the machine than req/s: what one request costs each server.
  console.log(`service / bare Koa, by CPU per request: ${(summary.bare.cpuUs / summary.service.cpuUs).toFixed(3)}`);
  for (const name of ['nolog', 'mw']) {
    if (summary[name]) console.log(`${name} / bare Koa, req/s: ${pairedRatio(results, name, 'bare').ratio.toFixed(3)}, by CPU: ${(summary.bare.cpuUs / summary[name].cpuUs).toFixed(3)}`);
  }
  if (drf) {
    const x = pairedRatio(results, 'service', 'drf');
    console.log(`service / DRF, req/s: ${x.ratio.toFixed(1)}x (goal >= 15x: ${verdict(x.ratio, 15)}), per round ${x.perRound.map((v) => v.toFixed(1)).join(' ')}`);
  } else {
    const x = summary.service.rps / DRF_RPS_NOTED;
    console.log(`service / DRF's ~${DRF_RPS_NOTED} req/s noted in ../shared/drf-peer/README.md (another machine): ${x.toFixed(1)}x (goal >= 15x: ${verdict(x, 15)})`);
  }
  console.log(`the service logged ${(statSync(logFile).size / 1e6).toFixed(1)} MB of request lines meanwhile`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// npm run bench:cli — median wall time of `tokenledger token create <user>` (a fresh process each
// time, on the embedded SQLite store), next to a bare `node -e ""` measured in the same run.
// Prints figures; asserts nothing. Goal: ≤ 0.25 s. RUNS=<n> changes the sample size;
// BREAKDOWN=1 also times bare imports of what every command loads (oclif, zod, the ledger).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.RUNS ?? 20);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-cli-'));
const env = { ...process.env, TOKENLEDGER_STORE: `sqlite:${join(dir, 'bench.db')}` };
delete env.TOKENLEDGER_REDIS_URL;
delete env.REDIS_URL;

const { openLedger } = await import(join(root, 'dist/src/app/ledger.js'));
const { loadSettings } = await import(join(root, 'dist/src/config.js'));
const ledger = await openLedger({ settings: loadSettings({}, env) });
for (let i = 0; i < RUNS + 3; i++) await ledger.registerUser({ username: `bench${i}`, password: null });
await ledger.close();

function timed(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bin = join(root, 'bin/run.js');
// Warm the page cache (the "warm machine" of the goal) before measuring.
for (let i = 0; i < 3; i++) timed(['-e', '']), timed([bin, 'token', 'create', `bench${RUNS + i}`]);

const importOf = (specifier) => ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`];
const parts = process.env.BREAKDOWN
  ? {
      'import @oclif/core/execute': importOf(join(root, 'node_modules/@oclif/core/lib/execute.js')),
      'import zod': importOf(join(root, 'node_modules/zod/index.js')),
      'import the ledger (src/app)': importOf(join(root, 'dist/src/app/ledger.js')),
      'tokenledger --version': [bin, '--version'],
    }
  : {};
const bare = [];
const create = [];
const partTimes = Object.fromEntries(Object.keys(parts).map((name) => [name, []]));
// Interleaved, so that load from other processes weighs on every series alike.
for (let i = 0; i < RUNS; i++) {
  bare.push(timed(['-e', '']));
  create.push(timed([bin, 'token', 'create', `bench${i}`]));
  for (const [name, args] of Object.entries(parts)) partTimes[name].push(timed(args));
}
rmSync(dir, { recursive: true, force: true });

const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;
console.log(`runs: ${RUNS} of each, interleaved`);
console.log(`node -e ""                       median ${fmt(median(bare))}  min ${fmt(Math.min(...bare))}`);
console.log(`tokenledger token create <user>  median ${fmt(median(create))}  min ${fmt(Math.min(...create))}`);
console.log(`ratio token create / bare node   ${(median(create) / median(bare)).toFixed(2)}x`);
console.log(`overhead over bare node          ${fmt(median(create) - median(bare))}`);
for (const [name, times] of Object.entries(partTimes)) {
  console.log(`  ${name.padEnd(31)} median ${fmt(median(times))}  (+${fmt(median(times) - median(bare))} over bare node)`);
}
console.log(`goal: median ≤ 0.250 s → ${median(create) <= 250 ? 'met' : 'missed'} on this run`);

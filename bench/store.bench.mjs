// npm run bench:store — token-issue commands per second through the application service (the
// Ledger API) on the durable SQLite store (WAL, synchronous=FULL: every append is fsynced before
// it returns). Prints figures; asserts nothing. Goal: ≥ 2,000/s. N=<n> changes the count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.N ?? 5_000);
const USERS = Number(process.env.USERS ?? 1_000);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-store-'));
const env = { TOKENLEDGER_STORE: `sqlite:${join(dir, 'bench.db')}` };

const { openLedger } = await import(join(root, 'dist/src/app/ledger.js'));
const { loadSettings } = await import(join(root, 'dist/src/config.js'));
const ledger = await openLedger({ settings: loadSettings({}, env) });
for (let i = 0; i < USERS; i++) await ledger.registerUser({ username: `user${i}`, password: null });

async function run(label, issue) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await issue(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(44)} ${N} in ${seconds.toFixed(2)} s = ${Math.round(N / seconds)}/s`);
  return N / seconds;
}

console.log(`store: SQLite (WAL, synchronous=FULL), ${USERS} users`);
// Round-robin over the users, so each issue loads a stream that grows by one token per round.
const first = await run('issue named token (tl format)', (i) => ledger.issueToken({ username: `user${i % USERS}`, name: `t${Math.floor(i / USERS)}` }));
const drf = await run('issue named token (drf, expiry, scope)', (i) =>
  ledger.issueToken({ username: `user${i % USERS}`, name: `d${Math.floor(i / USERS)}`, format: 'drf', expiresIn: '90d', scopes: ['tokens:read'] }),
);
// A service issues tokens for many callers at once: with 16 commands in flight, appends that
// arrive in the same event-loop turn share one fsynced commit (the SQLite adapter's group commit).
async function runConcurrent(label, issue, inFlight = 16) {
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < N) await issue(next++);
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(44)} ${N} in ${seconds.toFixed(2)} s = ${Math.round(N / seconds)}/s`);
  return N / seconds;
}
const concurrent = await runConcurrent('issue named token, 16 in flight', (i) =>
  ledger.issueToken({ username: `user${i % USERS}`, name: `c${Math.floor(i / USERS)}` }),
);
await ledger.close();

// For scale: how many fsynced commits per second this disk allows at all (one tiny row each).
const { default: Database } = await import('better-sqlite3');
const db = new Database(join(dir, 'raw.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)');
const insert = db.transaction(() => db.prepare('INSERT INTO t (b) VALUES (?)').run('x'));
const rawStart = process.hrtime.bigint();
for (let i = 0; i < 1000; i++) insert.immediate();
const rawRate = 1000 / (Number(process.hrtime.bigint() - rawStart) / 1e9);
db.close();
console.log(`${'disk: bare fsynced SQLite commits'.padEnd(44)} ${Math.round(rawRate)}/s (the ceiling for one commit per issue)`);
rmSync(dir, { recursive: true, force: true });
console.log(`goal: ≥ 2,000 issues/s → sequential ${Math.round(Math.min(first, drf))}/s (one fsync each), 16 in flight ${Math.round(concurrent)}/s (group commit): ${concurrent >= 2000 ? 'met' : 'missed'} with concurrency`);

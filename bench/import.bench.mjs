// npm run bench:import — `tokenledger import drf` from a Django SQLite database, and what the first
// login with an imported hash costs.
//  1. A Django 3.2 + DRF database made by real Django (test/fixtures/django/make_project.py), grown
//     to N users, each with a DRF key, whose password hashes are copied from the ones Django wrote
//     (copied, not computed: this measures the import). Then `tokenledger import drf sqlite:…` as a
//     real process into a fresh durable SQLite store: users/s over the whole command (start-up,
//     reading, digesting, appending), and the read alone in process.
//  2. Logins through the app's login function on a durable SQLite ledger: the first login of a
//     user imported with a PBKDF2-SHA256 hash at Django 5.2's 1,000,000 iterations (verify, then
//     the re-hash to argon2id and its event), beside the login of a native user (argon2id), medians.
// Figures only: nothing is asserted. Needs `npm run build` (reads dist/) and Debian's python3-django
// and python3-djangorestframework. Run it alone: `flock /tmp/tl-bench.lock npm run bench:import`.
//
// Knobs: N (100000 users), LOGINS (5 of each kind), KEEP=1 keeps the temp folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = (path) => new URL(`../dist/${path}`, import.meta.url).href;
if (!existsSync(new URL('../dist/src/index.js', import.meta.url))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const N = Number(process.env.N ?? 100_000);
const LOGINS = Number(process.env.LOGINS ?? 5);
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

const dir = mkdtempSync(join(tmpdir(), 'tl-bench-import-'));
console.log(`bench:import — ${fmt(N)} users with DRF keys; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// 1. The Django database.
let started = performance.now();
execFileSync('/usr/bin/python3', [join(root, 'test/fixtures/django/make_project.py'), '--dir', join(dir, 'django'), '--engine', 'sqlite'], {
  env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
});
const djangoDb = join(dir, 'django', 'db.sqlite3');
const db = new Database(djangoDb);
const hashes = db.prepare("SELECT password FROM auth_user WHERE password NOT LIKE '!%'").all().map((r) => r.password);
const insertUser = db.prepare(
  "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, 0, ?, '', '', ?, 0, 1, '2024-05-01 10:00:00.123456')",
);
const insertToken = db.prepare("INSERT INTO authtoken_token (key, created, user_id) VALUES (?, '2024-05-02 11:00:00.654321', ?)");
const existing = db.prepare('SELECT COUNT(*) AS n FROM auth_user').get().n;
db.transaction(() => {
  for (let i = existing; i < N; i++) {
    const id = insertUser.run(hashes[i % hashes.length], `user-${i}`, `user-${i}@example.com`).lastInsertRowid;
    insertToken.run(randomBytes(20).toString('hex'), id);
  }
})();
const users = db.prepare('SELECT COUNT(*) AS n FROM auth_user').get().n;
const keys = db.prepare('SELECT COUNT(*) AS n FROM authtoken_token').get().n;
db.close();
console.log(`  Django database: ${fmt(users)} users, ${fmt(keys)} keys (built in ${((performance.now() - started) / 1000).toFixed(1)} s, not measured)`);

// The read alone, in process.
const { readDrf } = await import(dist('src/import/index.js'));
started = performance.now();
const data = await readDrf(`sqlite:${djangoDb}`);
const readMs = performance.now() - started;
console.log(`  read + digest keys (in process): ${fmt(readMs)} ms, ${fmt(data.users.length / (readMs / 1000))} users/s`);

// The whole command, as an operator runs it.
const store = `sqlite:${join(dir, 'store', 'tokenledger.db')}`;
started = performance.now();
const run = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'import', 'drf', `sqlite:${djangoDb}`, '--json'], {
  env: { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' },
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
const importMs = performance.now() - started;
if (run.status !== 0) {
  console.error(run.stderr);
  process.exit(1);
}
const summary = JSON.parse(run.stdout);
const rate = summary.created / (importMs / 1000);
console.log(
  `  tokenledger import drf: ${fmt(summary.created)} users, ${fmt(summary.tokens)} tokens, ${fmt(summary.events)} events in ${(importMs / 1000).toFixed(2)} s ` +
    `→ ${fmt(rate)} users/s (whole command; goal ≥ 5,000) — ${(rate / 5000).toFixed(2)}× the goal`,
);
started = performance.now();
const again = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'import', 'drf', `sqlite:${djangoDb}`, '--json'], {
  env: { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' },
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
console.log(`  second run (nothing to do): ${JSON.parse(again.stdout).events} events appended in ${((performance.now() - started) / 1000).toFixed(2)} s`);

// 2. First login with an imported PBKDF2 hash at 1,000,000 iterations vs a native login.
const { defaultDeps, operator } = await import(dist('src/app/context.js'));
const { execute } = await import(dist('src/app/execute.js'));
const { login } = await import(dist('src/app/login.js'));
const { registerUser } = await import(dist('src/app/users.js'));
const { SqliteEventStore } = await import(dist('src/eventstore/sqlite.js'));
const events = new SqliteEventStore(join(dir, 'logins.db'));
const deps = defaultDeps(events);
const actor = { actor: 'bench', channel: 'http', source: '127.0.0.1' };
const PASSWORD = 'correct horse battery staple';
const salt = randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 22);
const django1M = `pbkdf2_sha256$1000000$${salt}$${pbkdf2Sync(PASSWORD, salt, 1_000_000, 32, 'sha256').toString('base64')}`;
const policy = { ttlMs: 0, limit: null };
await registerUser(deps, operator(actor), { username: 'native', password: PASSWORD });
await login(deps, actor, { username: 'native', password: PASSWORD }, policy); // warm-up
const first = [];
const native = [];
for (let i = 0; i < LOGINS; i++) {
  const username = `imported-${i}`;
  await execute(deps, username, { ...actor, channel: 'import' }, (now) => ({
    type: 'RegisterUser',
    data: { userId: `id-${i}`, username, isStaff: false, isSuperuser: false, passwordHash: django1M, now },
  }));
  // Interleaved, so both kinds see the same machine.
  let t = performance.now();
  const ok = await login(deps, actor, { username, password: PASSWORD }, policy);
  first.push(performance.now() - t);
  if (!ok.ok) throw new Error('the imported login failed');
  t = performance.now();
  await login(deps, actor, { username: 'native', password: PASSWORD }, policy);
  native.push(performance.now() - t);
}
const after = [];
for (let i = 0; i < LOGINS; i++) {
  const t = performance.now();
  await login(deps, actor, { username: `imported-${i % LOGINS}`, password: PASSWORD }, policy);
  after.push(performance.now() - t);
}
await events.close();
const [f, n, a] = [median(first), median(native), median(after)];
console.log(
  `  first login, imported pbkdf2_sha256 at 1,000,000 iterations (verify + re-hash + its event): median ${f.toFixed(0)} ms of ${LOGINS}\n` +
    `  native login (argon2id): median ${n.toFixed(0)} ms — first imported login ${(f / n).toFixed(1)}× a native one; the re-hash cost ≈ ${(f - n).toFixed(0)} ms once per user\n` +
    `  the same imported users' next login (argon2id since the re-hash): median ${a.toFixed(0)} ms (${(a / n).toFixed(2)}× native)`,
);
if (process.env.KEEP) console.log(`  kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });

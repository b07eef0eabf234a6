// node bench/directory-plans.mjs — the directory's list queries at bench:admin's size (50,000 users,
// 250,000 tokens), straight on the directory store (no HTTP): per query variant, the time of a page
// of 50 (median and p99 of ROUNDS runs) and the plan the database chose (SQLite EXPLAIN QUERY PLAN,
// PostgreSQL EXPLAIN ANALYZE with PG=1). Also the directory rebuild time. Prints, asserts nothing.
// The log is bench:admin's (same generator and sizes), generated once into the temp dir (FRESH=1
// again); the directories are rebuilt each run (REBUILD=0 reuses them). Needs `npm run build`.
// PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) with PG=1; PLANS=0 skips the plans.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendHistory } from './rebuild-history.mjs';

const USERS = Number(process.env.USERS ?? 50_000);
const ROUNDS = Number(process.env.ROUNDS ?? 30);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(tmpdir(), `tl-bench-dirplans-${USERS}`);
const path = join(dir, 'events.db');

const { SqliteEventStore } = await import(join(root, 'dist/src/eventstore/sqlite.js'));
const { SqliteDirectory } = await import(join(root, 'dist/src/directory/sqlite.js'));
const { PostgresDirectory } = await import(join(root, 'dist/src/directory/postgres.js'));
const { DirectoryProjector } = await import(join(root, 'dist/src/directory/projector.js'));

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

if (process.env.FRESH === '1' || !existsSync(join(dir, 'done'))) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = new SqliteEventStore(path);
  const written = await appendHistory(store, { users: USERS, tokensPerUser: 5, rotations: 1 });
  await store.close();
  writeFileSync(join(dir, 'done'), String(written));
  console.log(`generated ${written} events`);
}

const now = new Date().toISOString();
const pick = (i) => `u${(i * 7919) % USERS}`;
const users = [
  ['users (no filter)', () => ({})],
  ['users search=u12', () => ({ search: 'u12' })],
  ['users search=<3 digits>', (i) => ({ search: String((i * 37) % 1000) })],
  ['users search=u<n> (1 match)', (i) => ({ search: pick(i) })],
  ['users search=zzz (none)', () => ({ search: 'zzz' })],
  ['users staff=yes active=no', () => ({ staff: true, active: false })],
  ['users staff=yes active=yes', () => ({ staff: true, active: true })],
  ['users prefix=u4', () => ({ prefix: 'u4' })],
];
const tokens = [
  ['tokens (no filter)', () => ({})],
  ['tokens user=u<n>', (i) => ({ user: pick(i) })],
  ...['live', 'grace', 'expired', 'revoked', 'expiring', 'any'].map((status) => [`tokens status=${status}`, () => ({ status })]),
  ['tokens scope=tokens:read name=token-<1..4>', (i) => ({ scope: 'tokens:read', name: `token-${1 + (i % 4)}` })],
  ['tokens scope=tokens:read', () => ({ scope: 'tokens:read' })],
  ['tokens scope=nope', () => ({ scope: 'nope' })],
  ['tokens name=token-2', () => ({ name: 'token-2' })],
  ['tokens prefix=tl_FgH', () => ({ keyPrefix: 'tl_FgH' })],
];

async function run(label, directory, explain) {
  console.log(`\n== ${label}`);
  for (const [kind, variants] of [['users', users], ['tokens', tokens]]) {
    for (const [name, make] of variants) {
      const times = [];
      const ask = (q) => (kind === 'users' ? directory.listUsers({ ...q, now, limit: 50 }) : directory.listTokens({ ...q, now, limit: 50 }));
      let page = await ask(make(0));
      let second = page.next ? await ask({ ...make(0), cursor: page.next }) : null;
      for (let i = 1; i <= ROUNDS; i++) {
        const t0 = performance.now();
        page = await ask(make(i));
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      // The second page of variant 0 too (keyset: it costs what the first does).
      const t1 = performance.now();
      if (second) second = await ask({ ...make(0), cursor: (await ask(make(0))).next });
      const next = performance.now() - t1;
      console.log(
        `${name.padEnd(44)} median ${quantile(times, 0.5).toFixed(2).padStart(7)} ms  p99 ${quantile(times, 0.99).toFixed(2).padStart(7)} ms  (page 1+2: ${next.toFixed(1)} ms, ${page.results.length} rows)`,
      );
      if (explain) await explain(kind, make(1));
    }
  }
}

// SQLite: the statements the adapter prepares are recorded, and the last one explained.
if (process.env.SQLITE !== '0') {
  const file = join(dir, 'events.directory.db');
  let directory;
  if (process.env.REBUILD !== '0' || !existsSync(file)) {
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    const events = new SqliteEventStore(path);
    directory = new SqliteDirectory(file);
    const t0 = performance.now();
    const result = await new DirectoryProjector(events, directory).rebuild();
    const took = (performance.now() - t0) / 1000;
    console.log(`SQLite directory rebuild: ${result.events} events in ${took.toFixed(1)} s = ${Math.round(result.events / took)} events/s`);
    await events.close();
  } else directory = new SqliteDirectory(file);
  const db = directory.db;
  const prepare = db.prepare.bind(db);
  let last = null;
  db.prepare = (sql) => {
    const statement = prepare(sql);
    if (/^\s*SELECT/i.test(sql) && !/FROM meta/.test(sql)) {
      const all = statement.all.bind(statement);
      const get = statement.get.bind(statement);
      statement.all = (...params) => ((last = { sql, params }), all(...params));
      statement.get = (...params) => ((last = { sql, params }), get(...params));
    }
    return statement;
  };
  const explain = process.env.PLANS === '0' ? null : async (kind, q) => {
    last = null;
    await (kind === 'users' ? directory.listUsers({ ...q, now, limit: 50 }) : directory.listTokens({ ...q, now, limit: 50 }));
    if (!last) return;
    const plan = prepare(`EXPLAIN QUERY PLAN ${last.sql}`).all(...last.params);
    for (const row of plan) console.log(`      ${' '.repeat(row.parent === 0 ? 0 : 2)}${row.detail}`);
  };
  await run('SQLite', directory, explain);
  await directory.close();
}

if (process.env.PG === '1') {
  const url = `${process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'}?schema=dirplans_${USERS}`;
  const directory = await PostgresDirectory.open(url);
  if (process.env.REBUILD !== '0') {
    const events = new SqliteEventStore(path);
    const t0 = performance.now();
    const result = await new DirectoryProjector(events, directory).rebuild();
    const took = (performance.now() - t0) / 1000;
    console.log(`PostgreSQL directory rebuild: ${result.events} events in ${took.toFixed(1)} s = ${Math.round(result.events / took)} events/s`);
    await events.close();
    await directory.pool.query(`ANALYZE "dirplans_${USERS}".users; ANALYZE "dirplans_${USERS}".tokens`);
    await directory.pool.query(`SELECT 1`);
  }
  const pool = directory.pool;
  const query = pool.query.bind(pool);
  let last = null;
  pool.query = (sql, params) => {
    if (typeof sql === 'string' && /^\s*SELECT/i.test(sql) && !/meta/.test(sql)) last = { sql, params };
    return query(sql, params);
  };
  const explain = process.env.PLANS === '0' ? null : async (kind, q) => {
    last = null;
    await (kind === 'users' ? directory.listUsers({ ...q, now, limit: 50 }) : directory.listTokens({ ...q, now, limit: 50 }));
    if (!last) return;
    const plan = await query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${last.sql}`, last.params);
    for (const row of plan.rows) console.log(`      ${row['QUERY PLAN']}`);
  };
  await run('PostgreSQL', directory, explain);
  await directory.close();
}

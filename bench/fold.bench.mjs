// npm run bench:fold: what a write costs as a user's history grows (review H2).
// 1. The fold alone: a user's state folded from 1,000 / 10,000 / 100,000 TokenIssued events, in
//    two shapes: logins every 15 minutes (expiry removes old ones) and the review's worst case
//    (every token issued at one instant, never expiring, all live). Beside it, the fold as it
//    was before (a copy of the token map per event) at 1,000 / 2,000 / 4,000, for scale.
// 2. A login over HTTP (`serve`, SQLite, memory projection) of a fresh user and of a user with
//    10,000 logins in their history (HISTORY), interleaved, ROUNDS each: medians and ratio.
// Knobs: RUNS (fold repetitions, default 5), ROUNDS (logins each, default 15), HISTORY (10000).
// Run `npm run build` first; run under `flock /tmp/tl-bench.lock` on a shared machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { appendLoginHistory } from './login-history.mjs';
import { fold, initialState } from '../dist/src/domain/index.js';
import { loadSettings } from '../dist/src/config.js';
import { serve } from '../dist/src/http/serve.js';
import { createLogger } from '../dist/src/http/logging.js';
import { hashPassword } from '../dist/src/app/passwords/index.js';
import { openEventStore } from '../dist/src/eventstore/open.js';

const RUNS = Number(process.env.RUNS ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const HISTORY = Number(process.env.HISTORY ?? 10_000);
const T0 = Date.UTC(2030, 0, 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

const registered = { type: 'UserRegistered', data: { userId: 'u', username: 'x', isStaff: false, isSuperuser: false, passwordHash: null, at: new Date(T0).toISOString() } };
function issued(i, atMs, expiresAt) {
  return {
    type: 'TokenIssued',
    data: { tokenId: `t${i}`, name: `login-${i}`, kind: 'login', format: 'tl', digest: 'd'.repeat(64), keyPrefix: 'tl_abcde', scopes: [], description: null, expiresAt, at: new Date(atMs).toISOString() },
  };
}
const shapes = {
  'logins every 15 min, 10 h TTL': (n) => [registered, ...Array.from({ length: n }, (_, i) => issued(i, T0 + i * 900_000, new Date(T0 + i * 900_000 + 36e6).toISOString()))],
  'all at one instant, no expiry (all live)': (n) => [registered, ...Array.from({ length: n }, (_, i) => issued(i, T0, null))],
};

/** The fold before: `evolve` spread the token map on every TokenIssued. */
function oldFold(events) {
  let state = { exists: false };
  for (const e of events) {
    if (e.type === 'UserRegistered') state = { exists: true, ...e.data, tokens: {} };
    else if (e.type === 'TokenIssued') {
      const { at, ...token } = e.data;
      state = { ...state, tokens: { ...state.tokens, [token.name]: { ...token, createdAt: at, lastRotatedAt: null, previous: null } } };
    }
  }
  return state;
}

function time(fn) {
  const times = [];
  let result;
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    result = fn();
    times.push(performance.now() - started);
  }
  return { ms: median(times), result };
}

console.log(`bench:fold (load average ${loadavg()[0].toFixed(2)}, median of ${RUNS} runs)`);
console.log('\n1. Fold of n TokenIssued events (pure, on the event loop)');
for (const [shape, make] of Object.entries(shapes)) {
  const rows = [];
  for (const n of [1_000, 10_000, 100_000]) {
    const events = make(n);
    const { ms, result } = time(() => fold(initialState(), events));
    rows.push({ n, ms, live: Object.keys(result.tokens).length });
  }
  console.log(`  ${shape}:`);
  for (const { n, ms, live } of rows) {
    console.log(`    n=${n.toLocaleString('en')}: ${fmt(ms)} ms (${((ms * 1000) / n).toFixed(2)} µs/event), ${live.toLocaleString('en')} tokens in the state`);
  }
  console.log(`    ratio 10k/1k ${(rows[1].ms / rows[0].ms).toFixed(1)}, 100k/10k ${(rows[2].ms / rows[1].ms).toFixed(1)} (linear: 10)`);
}
const before = [1_000, 2_000, 4_000].map((n) => ({ n, ms: time(() => oldFold(shapes['all at one instant, no expiry (all live)'](n))).ms }));
console.log(`  the fold before (a copy of the token map per event), all live: ${before.map(({ n, ms }) => `n=${n.toLocaleString('en')} ${fmt(ms)} ms`).join(', ')}`);

console.log(`\n2. Login over HTTP: a fresh user vs a user with ${HISTORY.toLocaleString('en')} logins in their history (${ROUNDS} each, interleaved)`);
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-fold-'));
const storeUrl = `sqlite:${join(dir, 'events.db')}`;
const setup = await openEventStore(storeUrl);
const passwordHash = await hashPassword('Bench-Pass-123');
const started = performance.now();
const written = await appendLoginHistory(setup, { username: 'heavy', logins: HISTORY, passwordHash });
await appendLoginHistory(setup, { username: 'light', logins: 0, passwordHash });
await setup.close();
console.log(`  history: ${written.toLocaleString('en')} events for heavy (issued, and revoked by the login limit of 20), written in ${fmt(performance.now() - started)} ms`);

const settings = {
  ...loadSettings({}, {}),
  store: storeUrl,
  host: '127.0.0.1',
  port: 0,
  loginThrottle: null,
  loginRate: null,
};
const server = await serve({ settings, logger: createLogger(new Writable({ write: (_c, _e, done) => done() })), handleSignals: false });
async function loginMs(username) {
  const t = performance.now();
  const reply = await fetch(`${server.url}/api-token-auth/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'Bench-Pass-123' }),
  });
  if (reply.status !== 200) throw new Error(`login ${username}: ${reply.status} ${await reply.text()}`);
  await reply.arrayBuffer();
  return performance.now() - t;
}
await loginMs('light'); // warm-up
const first = await loginMs('heavy');
const light = [];
const heavy = [];
for (let r = 0; r < ROUNDS; r++) {
  light.push(await loginMs('light'));
  heavy.push(await loginMs('heavy'));
}
await server.stop();
rmSync(dir, { recursive: true, force: true });
console.log(`  heavy's first login (no snapshot yet: folds the whole history once, then snapshots): ${fmt(first)} ms`);
console.log(`  median login: fresh ${fmt(median(light))} ms, ${HISTORY.toLocaleString('en')}-login history ${fmt(median(heavy))} ms`);
console.log(`  ratio heavy/fresh ${(median(heavy) / median(light)).toFixed(2)} (goal ≤ 1.5)`);

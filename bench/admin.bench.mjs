// npm run bench:admin — the admin console at 50,000 users / 250,000 tokens: the server time of the
// user list, token list and history pages (a page of 50; median and p99, goal p99 ≤ 50 ms), and the
// time a browser takes from clicking "Create token" to the key on screen (goal ≤ 300 ms).
// The log (5 tokens per user, some scoped, some expiring, one revoked per user, some users
// deactivated) is generated once into the temp dir and reused (FRESH=1 makes it again; USERS=<n>
// changes its size). ROUNDS=<n> requests per page variant (default 40), CLICKS=<n> (default 20).
// Needs `npm run build` and Debian's chromium (/usr/bin/chromium, or TOKENLEDGER_CHROMIUM).
// Run it under `flock /tmp/tl-bench.lock`: figures measured beside other work are noise.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { chromium } from 'playwright-core';
import { appendHistory } from './rebuild-history.mjs';

const USERS = Number(process.env.USERS ?? 50_000);
const TOKENS_PER_USER = 5;
const ROUNDS = Number(process.env.ROUNDS ?? 40);
const CLICKS = Number(process.env.CLICKS ?? 20);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(tmpdir(), `tl-bench-admin-${USERS}`);
const path = join(dir, 'events.db');

const { SqliteEventStore } = await import(join(root, 'dist/src/eventstore/sqlite.js'));
const { loadSettings } = await import(join(root, 'dist/src/config.js'));
const { serve } = await import(join(root, 'dist/src/http/serve.js'));
const { createLogger } = await import(join(root, 'dist/src/http/logging.js'));

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => `${n.toFixed(1)} ms`;
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const summary = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), n: sorted.length };
};

// 1. The log, generated once.
if (process.env.FRESH === '1' || !existsSync(join(dir, 'done'))) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const store = new SqliteEventStore(path);
  const started = performance.now();
  const written = await appendHistory(store, { users: USERS, tokensPerUser: TOKENS_PER_USER, rotations: 1, onRound: (round, n) => console.log(`  generating: round ${round + 1}/3, ${fmt(n)} events`) });
  await store.close();
  // Mark it complete only now, so an interrupted run generates again.
  (await import('node:fs')).writeFileSync(join(dir, 'done'), String(written));
  console.log(`generated ${fmt(written)} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// 2. A real serve on it (memory projection, the directory beside the log), caught up before it listens.
const quiet = new Writable({ write: (_c, _e, done) => done() });
const settings = { ...loadSettings({}, {}), store: `sqlite:${path}`, host: '127.0.0.1', port: 0, loginThrottle: null };
let started = performance.now();
const server = await serve({ settings, logger: createLogger(quiet), handleSignals: false });
const ledger = server.backends.ledger;
const counts = await ledger.counts();
console.log(
  `serve up in ${((performance.now() - started) / 1000).toFixed(1)} s: ${fmt(Number(await ledger.store.headPosition()))} events, ` +
    `${fmt(counts.users.total)} users, ${fmt(USERS * TOKENS_PER_USER)} tokens issued ` +
    `(now ${fmt(counts.tokens.live)} live, ${fmt(counts.tokens.grace)} in grace, ${fmt(counts.tokens.expired)} expired, ${fmt(counts.tokens.revoked)} revoked)`,
);
const staff = { username: 'bench-staff', password: 'bench-staff-pass-1' };
if (!(await ledger.listUsers({ prefix: staff.username, limit: 1 })).results.some((u) => u.username === staff.username)) {
  await ledger.registerUser({ ...staff, isStaff: true, isSuperuser: true });
}

// 3. Sign in over HTTP, then time pages (keep-alive fetch on loopback: server time plus a loopback round trip).
const base = server.url;
const jar = new Map();
const keep = (response) => {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...value] = pair.split('=');
    jar.set(name, value.join('='));
  }
};
const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
const loginPage = await fetch(`${base}/admin/login/`);
keep(loginPage);
const csrf = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(await loginPage.text())[1];
const signedIn = await fetch(`${base}/admin/login/`, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: base, Cookie: cookie() },
  body: new URLSearchParams({ csrfmiddlewaretoken: csrf, username: staff.username, password: staff.password, next: '/admin/' }),
});
keep(signedIn);
if (signedIn.status !== 303 || !jar.get('tl_admin_session')) throw new Error(`sign-in failed: ${signedIn.status}`);

async function timed(pathname) {
  const t0 = performance.now();
  const response = await fetch(`${base}${pathname}`, { headers: { Cookie: cookie() } });
  const body = await response.text();
  const elapsed = performance.now() - t0;
  if (response.status !== 200) throw new Error(`${pathname}: ${response.status} ${body.slice(0, 200)}`);
  return { elapsed, body };
}

const nextOf = (body) => /href="([^"]+)" rel="next"/.exec(body)?.[1]?.replaceAll('&amp;', '&') ?? null;
const pick = (i) => `u${(i * 7919) % USERS}`;
const variants = {
  'user list': [
    (i) => `/admin/users/`,
    (i) => `/admin/users/?q=${(i * 37) % 1000}`,
    (i) => `/admin/users/?staff=yes&active=${i % 2 ? 'yes' : 'no'}`,
    (i) => `/admin/users/?q=${pick(i)}`,
  ],
  'token list': [
    (i) => `/admin/tokens/`,
    (i) => `/admin/tokens/?user=${pick(i)}`,
    (i) => `/admin/tokens/?status=${['live', 'grace', 'expired', 'revoked'][i % 4]}`,
    (i) => `/admin/tokens/?scope=tokens:read&name=token-${1 + (i % 4)}`,
  ],
  history: [
    (i) => `/admin/history/`,
    (i) => `/admin/history/?user=${pick(i)}`,
    (i) => `/admin/history/?type=TokenRevoked`,
    (i) => `/admin/history/?channel=import&actor=bench`,
  ],
};

// Warm-up: templates compiled, statements prepared, pages of every variant once.
for (const list of Object.values(variants)) for (const v of list) await timed(v(0));

console.log(`\npages (a page of 50), ${ROUNDS} requests per variant, ${Object.values(variants)[0].length} variants per page:`);
const results = {};
const byVariant = [];
for (const [page, list] of Object.entries(variants)) {
  const samples = [];
  const each = list.map(() => []);
  for (let i = 1; i <= ROUNDS; i++) {
    for (const [j, v] of list.entries()) {
      const { elapsed } = await timed(v(i));
      samples.push(elapsed);
      each[j].push(elapsed);
    }
  }
  results[page] = summary(samples);
  for (const [j, v] of list.entries()) byVariant.push([v(1).replace(/=[^&]*/g, '=…'), summary(each[j])]);
}
// Following the pages: the first page, then "next" 20 times (keyset cursors: page 21 costs what page 1 does).
for (const start of ['/admin/users/', '/admin/tokens/', '/admin/history/']) {
  const samples = [];
  let url = start;
  for (let i = 0; i < 20 && url; i++) {
    const { elapsed, body } = await timed(url);
    samples.push(elapsed);
    url = nextOf(body);
  }
  results[`${start} next ×20`] = summary(samples);
}
for (const [page, s] of Object.entries(results)) {
  console.log(`  ${page.padEnd(26)} median ${ms(s.median).padStart(9)}  p99 ${ms(s.p99).padStart(9)}  (${s.n} requests)${s.p99 <= 50 ? '' : '  over the 50 ms goal'}`);
}

console.log('  by variant:');
for (const [path, s] of byVariant) console.log(`    ${path.padEnd(40)} median ${ms(s.median).padStart(9)}  p99 ${ms(s.p99).padStart(9)}`);

// 4. Click "Create token" to the key on screen, in Chromium.
const browser = await chromium.launch({
  executablePath: process.env.TOKENLEDGER_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/admin/login/`);
  await page.getByLabel('Username').fill(staff.username);
  await page.getByLabel('Password').fill(staff.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin/`);
  const run = Date.now().toString(36);
  // Node's clock around the click and until the key is in the new document (the page navigates,
  // so a clock inside the page would not survive the click). The first two are warm-up.
  const samples = [];
  for (let i = 0; i < CLICKS + 2; i++) {
    await page.goto(`${base}/admin/tokens/add/?user=${pick(i + 500)}`);
    await page.getByLabel('Name').fill(`bench-${run}-${i}`);
    const button = page.getByRole('button', { name: 'Create token' });
    await button.waitFor();
    const t0 = performance.now();
    await button.click();
    await page.locator('#new-key').waitFor();
    if (i >= 2) samples.push(performance.now() - t0);
  }
  const s = summary(samples);
  console.log(`\nclick "Create token" → key on screen (Chromium, headless): median ${ms(s.median)}, p99 ${ms(s.p99)} (${s.n} clicks)${s.p99 <= 300 ? '' : '  over the 300 ms goal'}`);
} finally {
  await browser.close();
  await server.stop();
}

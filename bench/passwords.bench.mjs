// npm run bench:passwords — the cost of password hashing and verification, one call at a time.
//  1. hashPassword (argon2id, m=19456 KiB, t=2, p=1), and the scrypt it replaced.
//  2. verifyPassword per scheme, right and wrong password, at the parameters each writer uses by
//     default (Django's per version). A wrong password includes the padding verify that keeps every
//     failure at least as dear as an unknown user's.
//  3. Equal timing: failing verifies for an unknown user (null) and for a known user with a
//     current hash, interleaved round by round (order alternating), medians and their ratio; goal
//     within ±10%. Other failing paths are printed beside them.
// Figures only: nothing is asserted. Needs `npm run build` (reads dist/).
//
// Knobs: BENCH_ROUNDS (31, section 3), BENCH_REPS (5, sections 1 and 2).
import { createHash, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const dist = new URL('../dist/src/app/passwords/index.js', import.meta.url);
if (!existsSync(dist)) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const { hashPassword, verifyPassword, algorithmOf } = await import(dist.href);
const require = createRequire(import.meta.url);
const argon2 = require('@node-rs/argon2');
const bcrypt = (await import('bcryptjs')).default;

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1).padStart(8)} ms`;

async function timed(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function medianOf(fn, reps = REPS) {
  await fn(); // warm-up: first-use costs (module loading, the dummy hash) are not the steady state
  const times = [];
  for (let i = 0; i < reps; i++) times.push(await timed(fn));
  return median(times);
}

// Stored strings made without the module under test, each at its writer's default parameters.
const PASSWORD = 'correct horse battery staple';
const salt = () => randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 22);
const b64 = (buffer) => buffer.toString('base64');
const pbkdf2 = (digest, bytes, iterations) => {
  const s = salt();
  return `pbkdf2_${digest}$${iterations}$${s}$${b64(pbkdf2Sync(PASSWORD, s, iterations, bytes, digest))}`;
};
const legacyScrypt = () => {
  const s = randomBytes(16);
  const key = scryptSync(PASSWORD.normalize('NFKC'), s, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  return `$scrypt$ln=15,r=8,p=1$${b64(s).replace(/=+$/, '')}$${b64(key).replace(/=+$/, '')}`;
};
const djangoScrypt = () => {
  const s = salt();
  return `scrypt$16384$${s}$8$5$${b64(scryptSync(PASSWORD, s, 64, { N: 16384, r: 8, p: 5, maxmem: 64 * 1024 * 1024 }))}`;
};
const hex = (digest, text) => createHash(digest).update(text).digest('hex');

const t0 = performance.now();
const current = await hashPassword(PASSWORD);
const SCHEMES = [
  ['argon2id (tokenledger, current)', 'm=19456,t=2,p=1', current],
  ['legacy_scrypt (tokenledger, before)', 'N=2^15,r=8,p=1', legacyScrypt()],
  ['pbkdf2_sha256 (Django 3.2)', '260,000 iterations', pbkdf2('sha256', 32, 260_000)],
  ['pbkdf2_sha256 (Django 5.2)', '1,000,000 iterations', pbkdf2('sha256', 32, 1_000_000)],
  ['pbkdf2_sha1 (Django 3.2)', '260,000 iterations', pbkdf2('sha1', 20, 260_000)],
  ['argon2 (Django ≥ 3.2)', 'argon2id m=102400,t=2,p=8', `argon2${await argon2.hash(PASSWORD, { algorithm: 2, memoryCost: 102400, timeCost: 2, parallelism: 8, outputLen: 16 })}`],
  ['bcrypt_sha256 (Django)', '12 rounds', `bcrypt_sha256$${bcrypt.hashSync(hex('sha256', PASSWORD), 12)}`],
  ['bcrypt (Django)', '12 rounds', `bcrypt$${bcrypt.hashSync(PASSWORD, 12)}`],
  ['scrypt (Django ≥ 5.1)', 'N=2^14,r=8,p=5', djangoScrypt()],
  ['md5 (Django, salted)', '', (() => { const s = salt(); return `md5$${s}$${hex('md5', s + PASSWORD)}`; })()],
  ['sha1 (Django, salted)', '', (() => { const s = salt(); return `sha1$${s}$${hex('sha1', s + PASSWORD)}`; })()],
  ['unsalted_md5 (Django)', '', hex('md5', PASSWORD)],
  ['unsalted_sha1 (Django)', '', `sha1$$${hex('sha1', PASSWORD)}`],
];
console.log(`made ${SCHEMES.length} stored strings in ${((performance.now() - t0) / 1000).toFixed(1)} s; medians of ${REPS} calls after one warm-up\n`);

console.log('1. hashing a new password');
console.log(`   hashPassword, argon2id m=19456,t=2,p=1        ${ms(await medianOf(() => hashPassword(PASSWORD)))}`);
console.log(`   scrypt N=2^15,r=8,p=1 (what it replaced)      ${ms(await medianOf(async () => legacyScrypt()))}\n`);

console.log('2. verifyPassword per scheme                                               right password   wrong password');
for (const [name, parameters, stored] of SCHEMES) {
  const right = await verifyPassword(PASSWORD, stored);
  const wrong = await verifyPassword(`${PASSWORD}!`, stored);
  if (!right.ok || wrong.ok || algorithmOf(stored) === 'unsupported') throw new Error(`${name}: the bench's string does not verify as expected`);
  const okTime = await medianOf(() => verifyPassword(PASSWORD, stored));
  const failTime = await medianOf(() => verifyPassword(`${PASSWORD}!`, stored));
  console.log(`   ${name.padEnd(38)}${parameters.padEnd(28)}${ms(okTime)}${right.rehash ? ' (+rehash)' : '          '}   ${ms(failTime)}`);
}

console.log(`\n3. failing verifies, ${ROUNDS} interleaved rounds (order alternates each round)`);
const PATHS = {
  'known user, wrong password (current hash)': () => verifyPassword('wrong', current),
  'unknown user (null)': () => verifyPassword('wrong', null),
  'unusable password (!…)': () => verifyPassword('wrong', '!ZvdgBf19QbGP5GEe1W8ZKqgmeTfRy8m7zZD31kyx'),
  'malformed stored string': () => verifyPassword('wrong', '$argon2id$v=19$m=19456,t=2,p=1$$'),
  'candidate over 4 KiB': () => verifyPassword('x'.repeat(100_000), current),
  'wrong password, unsalted md5': () => verifyPassword('wrong', hex('md5', PASSWORD)),
};
const names = Object.keys(PATHS);
const times = Object.fromEntries(names.map((n) => [n, []]));
for (const name of names) await PATHS[name]();
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? names : [...names].reverse();
  for (const name of order) times[name].push(await timed(PATHS[name]));
}
const known = median(times[names[0]]);
for (const name of names) {
  const m = median(times[name]);
  console.log(`   ${name.padEnd(44)}${ms(m)}   ratio to known user ${(m / known).toFixed(3)}`);
}
const ratio = median(times['unknown user (null)']) / known;
const paired = median(times['unknown user (null)'].map((t, i) => t / times[names[0]][i]));
console.log(
  `\nunknown/known = ${ratio.toFixed(3)} (median of paired per-round ratios ${paired.toFixed(3)}); ` +
    `goal within ±10%: ${Math.abs(ratio - 1) <= 0.1 ? 'met' : 'NOT met'}`,
);

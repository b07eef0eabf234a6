// npm run bench:auth — the middleware bench. wrk against nine servers, interleaved in one run: for
// each framework (Koa, Express, Fastify), (a) the bare framework answering {"username":"alice"}, (b)
// the same app behind its tokenledger adapter on the Redis projection, (c) on the memory projection.
// Prints req/s, p50, p99 and, per framework, the ratios b/a and c/a (goals: Koa ≥ 0.85 and ≥ 0.95
// as before; each adapter ≥ 0.80 on Redis and ≥ 0.90 on memory, issue 14). Figures only: nothing is
// asserted. Every round runs fresh server processes (see bench/wrk-rounds.mjs for why).
// BENCH_FRAMEWORKS=koa,express picks some. BENCH_CONTROL=1 adds a second bare server per framework
// (a'), measured like the others: its ratio a'/a, which only the rig's noise moves from 1, says how
// far a ratio of this run can be trusted.
//
// Knobs: BENCH_ROUNDS (9), BENCH_SECONDS (4), BENCH_SLICES (4), BENCH_WARMUP (2),
// BENCH_CONNECTIONS (32), REDIS_URL (redis://127.0.0.1:6379).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { interleavedRounds, issueAliceKey, knobs, pairedRatio, requireBuildAndWrk, startServer, summarize, verdict } from './wrk-rounds.mjs';

const { rounds, seconds, connections, slices, warmup } = knobs(32);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const FRAMEWORKS = (process.env.BENCH_FRAMEWORKS ?? 'koa,express,fastify').split(',');
const CONTROL = process.env.BENCH_CONTROL === '1';
const MODES = CONTROL ? ['bare', 'redis', 'memory', 'control'] : ['bare', 'redis', 'memory'];
const VARIANTS = FRAMEWORKS.flatMap((f) => MODES.map((m) => `${f}-${m}`));
const MODE_LABEL = { bare: '(a) bare', redis: '(b) adapter, Redis', memory: '(c) adapter, memory', control: "(a') bare again" };
// The control is the bare server under another name.
const serverArg = (variant) => variant.replace(/-control$/, '-bare');
const LABEL = Object.fromEntries(VARIANTS.map((v) => [v, `${v.split('-')[0]} ${MODE_LABEL[v.split('-')[1]]}`]));
const fmt = (n, digits = 0) => n.toFixed(digits).padStart(9);

requireBuildAndWrk();
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-auth-'));
const prefix = `tokenledger-bench:auth-${process.pid}:`;
const env = { TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: prefix };
const script = new URL('./auth-server.mjs', import.meta.url).pathname;

try {
  const key = await issueAliceKey(env.TOKENLEDGER_STORE);
  console.log(
    `wrk -t1 -c${connections}, ${rounds} rounds, fresh servers each round warmed up for ${warmup} s, ${seconds} s per variant in ${slices} slices taken in turn (order rotates each round)`,
  );
  const line = [];
  const runs = await interleavedRounds({
    variants: Object.fromEntries(VARIANTS.map((v) => [v, { key, start: () => startServer([script, serverArg(v)], env) }])),
    rounds,
    seconds,
    connections,
    check: async (variant, url) => {
      const response = await fetch(url, { headers: { authorization: `Token ${key}` } });
      const body = await response.text();
      if (response.status !== 200 || body !== '{"username":"alice"}') throw new Error(`${variant}: ${response.status} ${body}`);
    },
    report: (round, variant, result) => {
      line.push(`${variant} ${result.rps.toFixed(0)}${result.refused ? ` (${result.refused} not 200)` : ''}`);
      if (line.length === VARIANTS.length) console.log(`  round ${round}: ${line.splice(0).join(', ')} req/s`);
    },
  });

  console.log('\nvariant                            req/s   p50 ms   p99 ms   server CPU µs/req   (medians over rounds)');
  const summary = summarize(runs);
  for (const variant of VARIANTS) {
    const s = summary[variant];
    console.log(`${LABEL[variant].padEnd(30)}${fmt(s.rps)}${fmt(s.p50, 2)}${fmt(s.p99, 2)}${fmt(s.cpuUs, 1).padStart(20)}`);
  }
  for (const framework of FRAMEWORKS) {
    const goals = framework === 'koa' ? { redis: 0.85, memory: 0.95 } : { redis: 0.8, memory: 0.9 };
    for (const mode of ['redis', 'memory']) {
      const variant = `${framework}-${mode}`;
      const bare = `${framework}-bare`;
      const { ratio, perRound } = pairedRatio(runs, variant, bare);
      console.log(
        `${framework} ${mode === 'redis' ? 'b/a' : 'c/a'} = ${ratio.toFixed(3)} req/s (goal ≥ ${goals[mode]}: ${verdict(ratio, goals[mode])}), ` +
          `per round ${perRound.map((x) => x.toFixed(2)).join(' ')}; by server CPU per request: ${(summary[bare].cpuUs / summary[variant].cpuUs).toFixed(3)}`,
      );
    }
    if (CONTROL) {
      const { ratio, perRound } = pairedRatio(runs, `${framework}-control`, `${framework}-bare`);
      console.log(`${framework} a'/a = ${ratio.toFixed(3)} req/s (the same server twice: the rig's noise), per round ${perRound.map((x) => x.toFixed(2)).join(' ')}`);
    }
  }
  const refused = VARIANTS.map((v) => [v, runs[v].reduce((n, x) => n + x.refused, 0)]).filter(([, n]) => n > 0);
  if (refused.length > 0) console.log(`WARNING: answers other than 200: ${refused.map(([v, n]) => `${v} ${n}`).join(', ')} (503s: lookups past 250 ms on a starved machine)`);
  console.log('(b) also costs redis-server CPU on this machine, which the server CPU figure leaves out');
  console.log('for scale: `npm run bench:http` measures DRF TokenAuthentication under gunicorn on this machine when ../shared/drf-peer is installed');
} finally {
  rmSync(dir, { recursive: true, force: true });
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) if (keys.length > 0) await redis.del(...keys);
  } catch (error) {
    console.error(`could not delete the bench's keys (${prefix}*) from Redis: ${error.message}`);
  } finally {
    redis.disconnect();
  }
}

// What the two HTTP benches (bench:auth, bench:http) share: wrk runs against server processes,
// interleaved in rounds, with fresh server processes every round.
//
// Why fresh processes: on this 2-core VM two processes of the same build, measured back to back
// against each other for ten rounds, differed by 12% in req/s (the median of their per-round
// ratios was 1.12, though the code was identical); with both restarted every round the same
// comparison gave 0.998. A process keeps its luck (where its memory and its JIT code landed,
// which core it mostly ran on) for its whole life, so a ratio between two long-lived processes
// measures their luck as much as their code. Each round therefore starts every variant anew,
// warms it up, measures all of them back to back (the order rotates each round) and stops them;
// the ratio is the median over rounds of the per-round ratios.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** Exits with a hint when wrk is not installed. */
export function requireWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    if (error.code === 'ENOENT') {
      console.error("wrk is not installed: `apt-get update && apt-get install -y wrk` (Debian's package)");
      process.exit(1);
    }
  }
}

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (user + system) a process has used so far, in µs: from /proc, so it ignores time spent waiting for a core. */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const UNIT = { us: 1e-3, ms: 1, s: 1e3 };
const ms = (text) => Number(/^([\d.]+)/.exec(text)[1]) * UNIT[/(us|ms|s)$/.exec(text)[1]];

/**
 * One wrk run (one thread, `connections` connections) with the key in the Authorization header.
 * Returns req/s, p50 and p99 in ms, answers other than 2xx/3xx, and the server's CPU per request
 * in µs (what the machine's other load cannot inflate much, unlike req/s).
 */
export function wrk({ url, key, seconds, connections, pid }) {
  const cpuBefore = cpuUs(pid);
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-H', `Authorization: Token ${key}`, url], { encoding: 'utf8' });
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
    p50: ms(/\s50%\s+(\S+)/.exec(out)[1]),
    p99: ms(/\s99%\s+(\S+)/.exec(out)[1]),
    refused: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    cpuUs: (cpuUs(pid) - cpuBefore) / requests,
  };
}

/**
 * Starts a server process and resolves once it says where it listens: `listening on <url>`
 * (tokenledger serve) or `listening <port>` (bench/auth-server.mjs). `stdout` may be a file
 * descriptor to send its output to (the service's request log).
 */
export function startServer(args, env, stdout = 'pipe') {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const look = (chunk) => {
      text += chunk;
      const found = /listening (?:on (http:\/\/\S+)|(\d+))/.exec(text);
      if (found) resolve({ child, url: found[1] ?? `http://127.0.0.1:${found[2]}` });
    };
    child.stdout?.setEncoding('utf8').on('data', look);
    child.stderr.setEncoding('utf8').on('data', look);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${text}`)));
  });
}

export async function stopServer({ child }) {
  child.removeAllListeners('exit');
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

/**
 * `rounds` rounds; in each, every variant's server is started fresh (`variants[name]()` resolves
 * to a started server), checked with `check(url)`, warmed up for `warmup` seconds, then all are
 * measured for `seconds` each, back to back in an order that rotates every round, and stopped.
 * `path` is appended to each server's URL. Calls `report(round, name, result)` after each run and
 * returns every result by variant name, in round order.
 */
export async function interleavedRounds({ variants, rounds, seconds, warmup = 1, connections, key, path = '/', check, report }) {
  const names = Object.keys(variants);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const servers = {};
    try {
      for (const name of names) servers[name] = await variants[name]();
      for (const name of names) {
        const url = new URL(path, servers[name].url).href;
        await check?.(name, url);
        wrk({ url, key, seconds: warmup, connections, pid: servers[name].child.pid });
      }
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const name of order) {
        const url = new URL(path, servers[name].url).href;
        const result = wrk({ url, key, seconds, connections, pid: servers[name].child.pid });
        results[name].push(result);
        report?.(round + 1, name, result);
      }
    } finally {
      await Promise.all(Object.values(servers).map(stopServer));
    }
  }
  return results;
}

/** The median over rounds of `variant`'s req/s divided by `base`'s in the same round. */
export function pairedRatio(results, variant, base) {
  const perRound = results[variant].map((r, i) => r.rps / results[base][i].rps);
  return { ratio: median(perRound), perRound };
}

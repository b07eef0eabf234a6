// npm run bench:audit — peak memory and speed of `tokenledger audit --format jsonl` (and of
// `audit verify`) over a log of 1,000,000 events (goal: under 200 MB RSS however long the log).
// The log is generated straight through the EventStore, hash-chained like the ledger's own events,
// in one append per user and round. Prints figures; asserts nothing.
// EVENTS=<n> changes the size; the generated store is kept in the temp dir and reused (FRESH=1 rebuilds it).
import { spawn } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const PER_USER = 200; // events per user stream
const ROUNDS = 2; // each stream is appended in this many slices, so streams interleave in the log
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(tmpdir(), `tl-bench-audit-${EVENTS}`);
const path = join(dir, 'events.db');
const store = `sqlite:${path}`;

const { SqliteEventStore } = await import(join(root, 'dist/src/eventstore/sqlite.js'));
const { eventHash, GENESIS_HASH } = await import(join(root, 'dist/src/domain/hash-chain.js'));

const hex = (text) => createHash('sha256').update(text).digest('hex');

/** The i-th event of a user's stream: registration, then issue → rotate → revoke cycles. */
function eventOf(username, i, at) {
  if (i === 0) return { type: 'UserRegistered', data: { userId: randomUUID(), username, isStaff: false, isSuperuser: false, passwordHash: null, at } };
  const name = `token-${Math.floor((i - 1) / 3)}`;
  const tokenId = hex(`${username}/${name}`).slice(0, 32);
  const digest = hex(`${username}/${i}`);
  switch ((i - 1) % 3) {
    case 0:
      return { type: 'TokenIssued', data: { tokenId, name, kind: 'named', format: 'tl', digest, keyPrefix: 'tl_AbCdE', scopes: ['tokens:read'], description: null, expiresAt: null, at } };
    case 1:
      return { type: 'TokenRotated', data: { tokenId, name, digest, keyPrefix: 'tl_FgHiJ', previousDigest: hex(`${username}/${i - 1}`), graceUntil: null, droppedDigests: [], at } };
    default:
      return { type: 'TokenRevoked', data: { tokenId, name, digests: [digest], reason: null, at } };
  }
}

async function generate() {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const eventStore = new SqliteEventStore(path);
  // Generation only: the adapter fsyncs every append (synchronous = FULL), which on a busy disk
  // makes 10,000 appends take minutes; the bench's own data needs no durability.
  eventStore.db.pragma('synchronous = OFF');
  const users = Math.ceil(EVENTS / PER_USER);
  const chains = Array.from({ length: users }, () => ({ revision: -1n, prevHash: GENESIS_HASH }));
  const slice = PER_USER / ROUNDS;
  const start = process.hrtime.bigint();
  let written = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let u = 0; u < users && written < EVENTS; u++) {
      const streamId = `user-u${u}`;
      const chain = chains[u];
      const batch = [];
      for (let k = 0; k < slice && written + batch.length < EVENTS; k++) {
        const revision = chain.revision + 1n;
        const at = new Date(Date.UTC(2030, 0, 1) + written + batch.length).toISOString();
        const event = eventOf(`u${u}`, Number(revision), at);
        const metadata = { eventId: randomUUID(), actor: 'bench', channel: 'cli', source: 'bench-host', at, correlationId: randomUUID(), prevHash: chain.prevHash };
        metadata.hash = eventHash({ streamId, revision, type: event.type, data: event.data, metadata });
        batch.push({ ...event, metadata });
        chain.revision = revision;
        chain.prevHash = metadata.hash;
      }
      if (batch.length === 0) continue;
      await eventStore.append(streamId, batch, chain.revision - BigInt(batch.length) < 0n ? 'no_stream' : chain.revision - BigInt(batch.length));
      written += batch.length;
    }
  }
  await eventStore.close();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`generated ${written.toLocaleString('en')} events in ${users.toLocaleString('en')} streams in ${seconds.toFixed(1)} s (${Math.round(written / seconds).toLocaleString('en')} events/s)`);
}

async function count() {
  if (!existsSync(path)) return 0;
  const eventStore = new SqliteEventStore(path);
  const head = await eventStore.headPosition();
  await eventStore.close();
  return Number(head);
}

/** Runs the CLI under /usr/bin/time -v, stdout to /dev/null: wall time and peak RSS. */
function measure(args) {
  const report = join(dir, 'time.txt');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-v', '-o', report, process.execPath, join(root, 'bin/run.js'), ...args], {
      cwd: root,
      env: { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' },
      stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const text = readFileSync(report, 'utf8');
      const field = (name) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(text)?.[1]);
      const cpu = field('User time \\(seconds\\)') + field('System time \\(seconds\\)');
      resolve({ code, seconds, cpu, rssMb: field('Maximum resident set size \\(kbytes\\)') / 1024 });
    });
  });
}

if (process.env.FRESH === '1' || (await count()) !== EVENTS) await generate();
else console.log(`reusing ${EVENTS.toLocaleString('en')} events in ${path} (FRESH=1 regenerates)`);
console.log(`store: ${(statSync(path).size / 2 ** 20).toFixed(0)} MB SQLite file`);

const results = [];
for (const [label, args] of [
  ['audit --format jsonl > /dev/null', ['audit', '--format', 'jsonl']],
  ['audit verify', ['audit', 'verify']],
]) {
  const run = await measure(args);
  results.push({ label, ...run });
  console.log(
    `${label.padEnd(34)} exit ${run.code}  ${run.seconds.toFixed(1)} s wall = ${Math.round(EVENTS / run.seconds).toLocaleString('en')} events/s` +
      `  (${run.cpu.toFixed(1)} s CPU = ${Math.round(EVENTS / run.cpu).toLocaleString('en')} events per CPU-second)  peak RSS ${run.rssMb.toFixed(0)} MB`,
  );
}
const jsonl = results[0];
console.log(`goal: jsonl peak RSS < 200 MB → ${jsonl.code === 0 && jsonl.rssMb < 200 ? 'met' : 'missed'} (${jsonl.rssMb.toFixed(0)} MB over ${EVENTS.toLocaleString('en')} events)`);

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDeps, operator } from '../../../src/app/context.js';
import { Ledger } from '../../../src/app/ledger.js';
import { SqliteEventStore } from '../../../src/eventstore/sqlite.js';
import { freshStore, tl } from '../cli.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
let base: ReturnType<typeof freshStore>;
let aliceEvents: { position: number; type: string }[];

/** alice acts over HTTP from 198.51.100.7, an operator through the CLI on "bastion". */
beforeAll(async () => {
  base = freshStore();
  const store = new SqliteEventStore(base.path);
  const ops = new Ledger(defaultDeps(store), operator({ actor: 'ops', channel: 'cli', source: 'bastion' }));
  const web = ops.as(operator({ actor: 'alice', channel: 'http', source: '198.51.100.7' }));
  await ops.registerUser({ username: 'alice', password: null });
  await ops.registerUser({ username: 'bob', password: null });
  await ops.issueToken({ username: 'alice' });
  await web.issueToken({ username: 'alice', name: 'laptop' });
  await ops.issueToken({ username: 'bob' });
  await web.revokeToken({ username: 'alice', name: 'laptop' });
  aliceEvents = (await store.readStream('user-alice')).map((e) => ({ position: Number(e.position), type: e.type }));
  await store.close();
});

afterAll(() => rmSync(base.dir, { recursive: true, force: true }));

describe('tokenledger audit', () => {
  it('--user alice --json: exactly alice\'s events, with actor, channel and address', async () => {
    const run = await tl(['audit', '--user', 'alice', '--json'], { store: base.url });
    expect(run.code).toBe(0);
    const events = JSON.parse(run.stdout) as { position: number; type: string; user: string; metadata: Record<string, string> }[];
    expect(events.map((e) => ({ position: e.position, type: e.type }))).toEqual(aliceEvents);
    expect(events.every((e) => e.user === 'alice')).toBe(true);
    expect(events.map((e) => [e.metadata.actor, e.metadata.channel, e.metadata.source])).toEqual([
      ['ops', 'cli', 'bastion'],
      ['ops', 'cli', 'bastion'],
      ['alice', 'http', '198.51.100.7'],
      ['alice', 'http', '198.51.100.7'],
    ]);
  });

  it('prints a table: time, event, user, token, actor, channel, from where, correlation id', async () => {
    const run = await tl(['audit', '--token', 'laptop'], { store: base.url });
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['TIME', 'EVENT', 'USER', 'TOKEN', 'ACTOR', 'CHANNEL', 'FROM', 'CORRELATION ID']);
    expect(rows.map((row) => row.split(/\s+/).slice(1, 7))).toEqual([
      ['TokenIssued', 'alice', 'laptop', 'alice', 'http', '198.51.100.7'],
      ['TokenRevoked', 'alice', 'laptop', 'alice', 'http', '198.51.100.7'],
    ]);
  });

  it('--format jsonl: one event per line, the whole log in order', async () => {
    const run = await tl(['audit', '--format', 'jsonl'], { store: base.url });
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { position: number });
    expect(lines.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses malformed filters and --follow with --json as usage errors', async () => {
    const badType = await tl(['audit', '--type', 'TokenExploded'], { store: base.url });
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/unknown event type "TokenExploded"/);
    expect((await tl(['audit', '--follow', '--json'], { store: base.url })).code).toBe(2);
  });
});

/** A long-running `tokenledger audit --follow …`, its stdout collected line by line. */
function follow(store: string, args: string[]) {
  const child = spawn(process.execPath, ['bin/run.js', 'audit', '--follow', ...args], {
    cwd: root,
    env: { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' },
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  async function until(what: string, done: () => boolean, timeoutMs: number): Promise<number> {
    const start = Date.now();
    while (!done()) {
      if (Date.now() - start > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms; stdout ${JSON.stringify(lines)}, stderr ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return Date.now() - start;
  }
  return { child, lines, exited, until, stderr: () => stderr };
}

describe('tokenledger audit --follow', () => {
  it('prints an event another process appends, promptly, and exits 0 on SIGINT', async () => {
    const store = freshStore();
    const seed = await tl(['user', 'create', 'carol', '--no-password'], { store: store.url });
    expect(seed.code).toBe(0);
    const tail = follow(store.url, ['--format', 'jsonl', '--user', 'carol']);
    try {
      await tail.until('history line', () => tail.lines.length === 1, 30_000);
      expect((await tl(['user', 'create', 'dave', '--no-password'], { store: store.url })).code).toBe(0);
      expect((await tl(['token', 'create', 'carol', '--name', 'followed'], { store: store.url })).code).toBe(0);
      // Follow polls every 200 ms: 5 s is a generous bound on a loaded 2-core machine.
      await tail.until('followed event', () => tail.lines.length === 2, 5_000);
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
      expect(tail.stderr()).toBe('');
      expect(tail.lines.map((line) => JSON.parse(line)).map((e) => [e.user, e.type, e.token])).toEqual([
        ['carol', 'UserRegistered', null],
        ['carol', 'TokenIssued', 'followed'],
      ]);
    } finally {
      tail.child.kill('SIGKILL');
      rmSync(store.dir, { recursive: true, force: true });
    }
  });

  it('starts with the most recent --limit events and exits 0 on SIGTERM', async () => {
    const tail = follow(base.url, ['--limit', '2']);
    try {
      await tail.until('header and 2 rows', () => tail.lines.length === 3, 30_000);
      tail.child.kill('SIGTERM');
      expect(await tail.exited).toBe(0);
      expect(tail.lines.slice(1).map((row) => row.split(/\s+/)[1])).toEqual(['TokenIssued', 'TokenRevoked']);
    } finally {
      tail.child.kill('SIGKILL');
    }
  });
});

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldUser } from '../../src/app/execute.js';
import { openEventStore } from '../../src/eventstore/open.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';
import { freshStore, ledgerOf, tl } from '../commands/cli.js';
import { sharedDjangoProject } from '../fixtures/django/shared.js';
import { BIN } from '../http/process.js';

const EXTRA_USERS = 2_000;
const KILLS = 10;

let source: string;
let dir: string;
beforeAll(async () => {
  const project = await sharedDjangoProject('sqlite');
  dir = freshStore().dir;
  const path = join(dir, 'django.sqlite3');
  copyFileSync(project.sqlitePath!, path);
  // Django's own database, grown by users whose hashes are copied from the ones Django wrote, so
  // an import takes long enough for kills to land in the middle of it.
  const db = new Database(path);
  const hashes = (db.prepare("SELECT password FROM auth_user WHERE password NOT LIKE '!%'").all() as { password: string }[]).map((r) => r.password);
  const user = db.prepare(
    "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, 0, ?, '', '', '', 0, ?, '2024-05-01 10:00:00.123456')",
  );
  const token = db.prepare("INSERT INTO authtoken_token (key, created, user_id) VALUES (?, '2024-05-02 11:00:00.654321', ?)");
  db.transaction(() => {
    for (let i = 0; i < EXTRA_USERS; i++) {
      const id = user.run(hashes[i % hashes.length], `bulk-${i}`, i % 17 === 0 ? 0 : 1).lastInsertRowid;
      if (i % 5 !== 0) token.run(randomBytes(20).toString('hex'), id);
    }
  })();
  db.close();
  source = `sqlite:${path}`;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Users and tokens as a store holds them, without what differs between any two runs (ids, import times). */
async function contents(store: string) {
  // Read as the app reads the log (opened, should events ever hold sealed fields).
  const ledger = await ledgerOf(store);
  const events = ledger.store;
  try {
    const streams = new Map<string, RecordedEvent[]>();
    for (const e of await events.readAll()) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
    const users = [...streams.values()].map((history) => {
      const state = foldUser(history);
      if (!state.exists) throw new Error('a stream without its user');
      const tokens = Object.values(state.tokens).map((t) => [t.name, t.format, t.digest, t.createdAt]);
      return [state.username, state.active, state.isStaff, state.isSuperuser, state.passwordHash, state.createdAt, tokens];
    });
    return { users: users.sort((a, b) => String(a[0]).localeCompare(String(b[0]))), head: await events.headPosition() };
  } finally {
    await ledger.close();
  }
}

/**
 * Runs the import and SIGKILLs it: after `afterMs` (start-up: before anything is appended), or as
 * soon as the log has passed `pastHead` (in the middle of the appends), watched from this process.
 */
async function killedImport(store: string, kill: { afterMs: number } | { pastHead: bigint }): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'import', 'drf', source], { env: { ...process.env, TOKENLEDGER_STORE: store }, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let done = false;
  void exited.then(() => (done = true));
  if ('afterMs' in kill) {
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, kill.afterMs))]);
  } else {
    const watcher = await openEventStore(store);
    try {
      while (!done && (await watcher.headPosition()) <= kill.pastHead) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await watcher.close();
    }
  }
  child.kill('SIGKILL');
  await exited;
}

describe('import drf killed at random points', () => {
  it(`SIGKILLed ${KILLS} times and run again, ends with the users and tokens of one clean run, and audit verify passes`, async () => {
    const clean = freshStore();
    const started = Date.now();
    const run = await tl(['import', 'drf', source], { store: clean.url });
    const took = Date.now() - started;
    expect(run.code, run.stderr).toBe(0);
    const expected = await contents(clean.url);
    expect(expected.users.length).toBe(EXTRA_USERS + 17);

    const crashed = freshStore();
    const heads: bigint[] = [];
    for (let i = 0; i < KILLS; i++) {
      const head = heads.at(-1) ?? 0n;
      // Two kills during start-up, at a random moment of it; the others at a random point of the
      // appends still to come (each run goes on from where the last one was killed).
      const kill = i < 2 ? { afterMs: Math.round(took * 0.5 * Math.random()) } : { pastHead: head + BigInt(Math.floor(Math.random() * Number(expected.head - head) * 0.6)) };
      await killedImport(crashed.url, kill);
      const now = await contents(crashed.url);
      heads.push(now.head);
      // All or nothing per user: whoever is there after a kill is there whole (flags, password, key).
      const whole = new Map(expected.users.map((u) => [u[0], u]));
      for (const user of now.users) expect(user).toEqual(whole.get(user[0]));
    }
    // The kills did land in the middle: runs left part of the import, which the next run went on with.
    expect(heads.filter((h) => h > 0n && h < expected.head).length, `heads after each kill ${heads.join(', ')} of ${expected.head}`).toBeGreaterThanOrEqual(5);

    const last = await tl(['import', 'drf', source, '--json'], { store: crashed.url });
    expect(last.code, last.stderr).toBe(0);
    expect(await contents(crashed.url)).toEqual(expected);
    const again = await tl(['import', 'drf', source, '--json'], { store: crashed.url });
    expect(JSON.parse(again.stdout)).toMatchObject({ events: 0, unchanged: EXTRA_USERS + 17 });
    const verify = await tl(['audit', 'verify'], { store: crashed.url });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    for (const store of [clean, crashed]) rmSync(store.dir, { recursive: true, force: true });
  });
});

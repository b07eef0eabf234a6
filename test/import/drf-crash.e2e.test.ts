import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldUser } from '../../src/app/execute.js';
import { openEventStore } from '../../src/eventstore/open.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';
import { freshStore, tl } from '../commands/cli.js';
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
  const events = await openEventStore(store);
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
    await events.close();
  }
}

function killedImport(store: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'import', 'drf', source], { env: { ...process.env, TOKENLEDGER_STORE: store }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
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
      // Anywhere from start-up (nothing appended yet) to about the end of a whole run.
      await killedImport(crashed.url, Math.round(took * (0.2 + 0.9 * Math.random())));
      heads.push((await contents(crashed.url)).head);
    }
    // The kills did land in the middle: some runs left part of the import, which the next run completed.
    expect(heads.some((h) => h > 0n && h < expected.head), `heads after each kill ${heads.join(', ')} of ${expected.head}`).toBe(true);
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

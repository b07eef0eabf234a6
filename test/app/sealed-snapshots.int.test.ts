import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { defaultDeps } from '../../src/app/context.js';
import { loadUserStream } from '../../src/app/execute.js';
import { Ledger, openLedger } from '../../src/app/ledger.js';
import { SNAPSHOT_EVERY, encodeSnapshot } from '../../src/app/snapshots.js';
import type { SnapshotStore } from '../../src/eventstore/snapshots.js';
import { loadSettings } from '../../src/config.js';
import { openLog } from '../../src/eventstore/vault/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// The log as a user opens it (openLedger: the sealing log over SQLite and its vault file), not a
// bare store: snapshots must work there, and must not keep in clear what the events keep sealed.
it('on the default sealing log, a long stream loads from a sealed snapshot; no copy of the log shows the user, and a deleted user’s snapshot never opens again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-sealed-snap-'));
  dirs.push(dir);
  const path = join(dir, 'log.db');
  const store = `sqlite:${path}`;
  const username = `snap-${randomBytes(4).toString('hex')}`;
  const ledger = await openLedger({ settings: loadSettings({ store }, {}) });
  let streamId: string;
  let hash: string;
  try {
    await ledger.registerUser({ username, password: `pw-${username}` });
    for (let i = 0; i < SNAPSHOT_EVERY + 20; i++) await (i % 2 === 0 ? ledger.deactivateUser(username) : ledger.activateUser(username));
    const loaded = await loadUserStream(ledger.deps, username);
    streamId = loaded.streamId;
    // Folded from the snapshot plus the events after it, not from the whole stream.
    expect(Number(loaded.last!.revision) + 1).toBeGreaterThan(SNAPSHOT_EVERY);
    expect(loaded.tail).toBeLessThan(SNAPSHOT_EVERY);
    expect(loaded.state).toMatchObject({ exists: true, username, active: true });
    hash = (loaded.state as { passwordHash: string }).passwordHash;
    expect(hash).toMatch(/^\$argon2id\$/);
  } finally {
    await ledger.close();
  }

  const db = new Database(path, { readonly: true });
  const rows = db.prepare('SELECT body, checksum FROM snapshots WHERE stream_id = ? AND body IS NOT NULL').all(streamId) as { body: string; checksum: string }[];
  db.close();
  expect(rows).toHaveLength(1);
  expect(rows[0]!.body).toMatch(/^sealed:v1:u/);

  // A backup of the log taken while the user exists: what it holds of them is sealed.
  const backup = join(dir, 'backup.db');
  copyFileSync(path, backup);
  const bytes = readFileSync(backup).toString('latin1');
  for (const secret of [username, hash, hash.split('$').at(-1)!]) expect(bytes).not.toContain(secret);

  // The backup, opened with the live vault: its snapshot opens while the user and their password are as they were…
  const backupSnapshot = async () => {
    const restored = await openLog({ store: `sqlite:${backup}`, vault: `sqlite:${join(dir, 'log.vault.db')}` });
    try {
      return await restored.snapshotStore!().load(streamId);
    } finally {
      await restored.close();
    }
  };
  expect((await backupSnapshot())?.body).toContain(hash);

  // …and never again once the password changed (the old hash's key is shredded), though the user key still exists.
  const again = await openLedger({ settings: loadSettings({ store }, {}) });
  try {
    await again.setPassword(username, `new-pw-${username}`);
    expect(await backupSnapshot()).toBeNull();
    // The live snapshot was deleted with the change; the next one is sealed under the new hash's key.
    for (let i = 0; i < SNAPSHOT_EVERY; i++) await (i % 2 === 0 ? again.deactivateUser(username) : again.activateUser(username));
    const loaded = await loadUserStream(again.deps, username);
    expect(loaded.tail).toBeLessThan(SNAPSHOT_EVERY);
    expect((loaded.state as { passwordHash: string }).passwordHash).not.toBe(hash);
    // A consistent copy while the log is open (the new snapshot may still be in the -wal file).
    rmSync(backup);
    const live = new Database(path, { readonly: true });
    live.exec(`VACUUM INTO '${backup}'`);
    live.close();
    expect(await backupSnapshot()).not.toBeNull();
    await again.deleteUser(username);
  } finally {
    await again.close();
  }
  // After the delete every key of the user is gone: the newer backup's snapshot is a miss too.
  expect(await backupSnapshot()).toBeNull();
});

it('a snapshot written in clear (before snapshots were sealed) is not trusted: the load folds the stream, the next one is sealed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-sealed-snap-'));
  dirs.push(dir);
  const path = join(dir, 'log.db');
  const store = `sqlite:${path}`;
  const ledger = await openLedger({ settings: loadSettings({ store }, {}) });
  try {
    await ledger.registerUser({ username: 'clear-snap', password: null });
    for (let i = 0; i < SNAPSHOT_EVERY + 2; i++) await (i % 2 === 0 ? ledger.deactivateUser('clear-snap') : ledger.activateUser('clear-snap'));
    const { streamId, state } = await loadUserStream(ledger.deps, 'clear-snap');
    // What an older version left: the same row, its body in clear.
    const db = new Database(path);
    const row = db.prepare('SELECT revision, anchor, schema FROM snapshots WHERE stream_id = ?').get(streamId) as { revision: number; anchor: string; schema: string };
    const inner = (ledger.deps.store as unknown as { sealed: { snapshotStore(): { save(s: object): Promise<void> } } }).sealed.snapshotStore();
    db.prepare('DELETE FROM snapshots WHERE stream_id = ?').run(streamId);
    db.close();
    await inner.save(encodeSnapshot(streamId, BigInt(row.revision), row.anchor, { ...state, username: 'forged-in-clear' } as never));
    const loaded = await loadUserStream(ledger.deps, 'clear-snap');
    expect(loaded.state).toMatchObject({ username: 'clear-snap' });
    expect(loaded.tail).toBe(Number(loaded.last!.revision) + 1);
    // …and deleted once found.
    const seen = new Database(path, { readonly: true });
    expect(seen.prepare('SELECT body FROM snapshots WHERE stream_id = ?').get(streamId)).toEqual({ body: null });
    seen.close();
    // The next snapshot replaces it, sealed, and is used.
    for (let i = 0; i < SNAPSHOT_EVERY; i++) await (i % 2 === 0 ? ledger.deactivateUser('clear-snap') : ledger.activateUser('clear-snap'));
    const check = new Database(path, { readonly: true });
    expect((check.prepare('SELECT body FROM snapshots WHERE stream_id = ?').get(streamId) as { body: string }).body).toMatch(/^sealed:v1:u/);
    check.close();
    const later = await loadUserStream(ledger.deps, 'clear-snap');
    expect(later.state).toMatchObject({ username: 'clear-snap' });
    expect(later.tail).toBeLessThan(SNAPSHOT_EVERY);
  } finally {
    await ledger.close();
  }
});

/** Two writers on one log: the second's snapshot deletion runs `before` first (the race window). */
async function twoWriters(dir: string) {
  const store = `sqlite:${join(dir, 'log.db')}`;
  const first = await openLedger({ settings: loadSettings({ store }, {}) });
  const log = await openLog({ store });
  const inner = log.snapshotStore!();
  const hooks: { before: () => Promise<void> } = { before: async () => {} };
  const racing: SnapshotStore = {
    load: (id) => inner.load(id),
    save: (s) => inner.save(s),
    deleteSnapshots: async (id) => {
      await hooks.before();
      return inner.deleteSnapshots(id);
    },
  };
  const second = new Ledger({ ...defaultDeps(log), snapshots: racing }, first.actor);
  return { first, second, hooks, close: async () => (await first.close(), await second.close()) };
}

it.each([
  ['a new password', 'pw-new'],
  ['no password', null],
] as const)('a snapshot of the state before a change to %s, saved by another writer at the worst moment, never opens from a backup', async (_label, password) => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-sealed-snap-'));
  dirs.push(dir);
  const { first, second, hooks, close } = await twoWriters(dir);
  try {
    await first.registerUser({ username: 'racer', password: 'pw-old' });
    for (let i = 0; i < SNAPSHOT_EVERY + 2; i++) await (i % 2 === 0 ? first.deactivateUser('racer') : first.activateUser('racer'));
    // The first writer has folded the user (old hash) and is about to save a snapshot of it…
    const stale = await loadUserStream(first.deps, 'racer');
    const oldHash = (stale.state as { passwordHash: string }).passwordHash;
    const staleSave = () => first.deps.snapshots!.save(encodeSnapshot(stale.streamId, stale.last!.revision, stale.last!.hash, stale.state));
    const backupAs = (name: string) => {
      const live = new Database(join(dir, 'log.db'), { readonly: true });
      live.exec(`VACUUM INTO '${join(dir, name)}'`);
      live.close();
      return join(dir, name);
    };
    // …and does, while the second writer retires the old snapshots of its password change; a backup is taken then.
    const backups: string[] = [];
    hooks.before = async () => {
      hooks.before = async () => {};
      await staleSave();
      backups.push(backupAs('during.db'));
    };
    await second.setPassword('racer', password);
    await staleSave(); // and once more after the change: refused by the deletion's floor
    backups.push(backupAs('after.db'));
    expect(backups).toHaveLength(2);
    for (const backup of backups) {
      const restored = await openLog({ store: `sqlite:${backup}`, vault: `sqlite:${join(dir, 'log.vault.db')}` });
      try {
        const opened = await restored.snapshotStore!().load(stale.streamId);
        expect(opened?.body ?? '').not.toContain(oldHash);
      } finally {
        await restored.close();
      }
    }
    const now = await loadUserStream(first.deps, 'racer');
    expect((now.state as { passwordHash: string | null }).passwordHash).not.toBe(oldHash);
  } finally {
    await close();
  }
});

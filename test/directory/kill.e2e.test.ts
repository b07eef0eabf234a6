import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { appendHistory } from '../../bench/rebuild-history.mjs';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import { DirectoryProjector } from '../../src/directory/projector.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';

/**
 * SPEC §6 for the directory, played by its adversary: a directory projector in a process of its own
 * is SIGKILLed at random points, 30+ times, while a writer appends; the directory it leaves, once a
 * projector finishes the log, equals a directory rebuilt from scratch: nothing lost, nothing doubled.
 */
const dir = mkdtempSync(join(tmpdir(), 'tl-dir-kill-'));
const log = join(dir, 'events.db');
const directoryFile = join(dir, 'events.directory.db');
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killOnce(): Promise<void> {
  const batch = String(1 + Math.floor(Math.random() * 40));
  const child = spawn(process.execPath, ['test/helpers/directory-projector.mjs', log, directoryFile, batch], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
  const started = new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => chunk.toString().includes('following') && resolve());
    void exited.then(resolve);
  });
  if (Math.random() < 0.8) {
    await started;
    await sleep(Math.random() * 60);
  } else {
    await sleep(Math.random() * 150); // while it starts (opening, making tables)
  }
  child.kill('SIGKILL');
  await exited;
}

it('a directory projector SIGKILLed 30+ times while a writer appends ends equal to a rebuild', async () => {
  const events = new SqliteEventStore(log);
  const checker = new SqliteDirectory(directoryFile);
  const fresh = new SqliteDirectory(':memory:');
  try {
    await appendHistory(events, { users: 60 });
    let kills = 0;
    let interrupted = 0;
    let writing = true;
    // The writer appends all along, in small rounds of new users.
    const writer = (async () => {
      for (let round = 0; writing; round++) {
        await appendHistory(events, { users: 3, prefix: `w${round}-` });
        await sleep(5);
      }
    })();
    for (let round = 0; round < 32; round++) {
      const before = await checker.checkpoint();
      await killOnce();
      kills += 1;
      const after = await checker.checkpoint();
      if (after > before && after < (await events.headPosition())) interrupted += 1;
    }
    writing = false;
    await writer;
    expect(kills).toBeGreaterThanOrEqual(30);
    // Most kills must land in the middle of real work, or this test would prove little.
    expect(interrupted).toBeGreaterThanOrEqual(10);
    const head = await events.headPosition();
    await new DirectoryProjector(events, checker).catchUp();
    await new DirectoryProjector(events, fresh).rebuild();
    const resumed = await checker.dump();
    expect(resumed.checkpoint).toBe(head);
    expect(resumed).toEqual(await fresh.dump());
    expect(resumed.users.length).toBeGreaterThan(60);
  } finally {
    await checker.close();
    await fresh.close();
    await events.close();
  }
}, 60_000);

/** The directory file's schema (tables, indexes, triggers) and its integrity check, read on a connection of its own. */
function inspect(path: string): { schema: unknown[]; integrity: unknown } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      schema: db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all(),
      integrity: db.pragma('integrity_check', { simple: true }),
    };
  } finally {
    db.close();
  }
}

it('a directory rebuild SIGKILLed at random points leaves the old directory live and whole (rows, checkpoint, indexes, triggers); a rebuild then completes', async () => {
  const rebuildLog = join(dir, 'rebuild-events.db');
  const rebuildFile = join(dir, 'rebuild-events.directory.db');
  const events = new SqliteEventStore(rebuildLog);
  const directory = new SqliteDirectory(rebuildFile);
  try {
    // ~35,000 events: a rebuild in batches of 50 takes a good part of a second, so most kills land inside it.
    await appendHistory(events, { users: 1_500 });
    // The live directory: the first half of the log, so a rebuild that got through would show.
    await directory.apply(await events.readAll({ limit: Number((await events.headPosition()) / 2n) }));
    const before = await directory.dump();
    const shape = inspect(rebuildFile);
    expect(shape.integrity).toBe('ok');
    let midway = 0;
    for (let round = 0; round < 10; round++) {
      const child = spawn(process.execPath, ['test/helpers/directory-rebuild.mjs', rebuildLog, rebuildFile, '50'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.add(child);
      let stderr = '';
      const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
      const rebuilding = new Promise<void>((resolve) => {
        child.stderr!.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), stderr.includes('rebuilding') && resolve()));
        void exited.then(resolve);
      });
      await rebuilding;
      await sleep(Math.random() * 80);
      if (!stderr.includes('rebuilt')) midway += 1;
      child.kill('SIGKILL');
      await exited;
      if (stderr.includes('rebuilt')) continue;
      expect(await directory.dump(), `round ${round}`).toEqual(before);
      expect(inspect(rebuildFile), `round ${round}`).toEqual(shape);
    }
    expect(midway).toBeGreaterThanOrEqual(5);
    await new DirectoryProjector(events, directory).rebuild();
    const rebuilt = await directory.dump();
    expect(rebuilt.checkpoint).toBe(await events.headPosition());
    expect(inspect(rebuildFile)).toEqual(shape);
    const fresh = new SqliteDirectory(':memory:');
    try {
      await new DirectoryProjector(events, fresh, { batchSize: 97 }).catchUp();
      expect(rebuilt).toEqual(await fresh.dump());
    } finally {
      await fresh.close();
    }
  } finally {
    await directory.close();
    await events.close();
  }
}, 120_000);

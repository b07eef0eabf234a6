import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

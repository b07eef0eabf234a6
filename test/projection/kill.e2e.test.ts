import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { appendHistory } from '../../bench/rebuild-history.mjs';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { Projector } from '../../src/projection/projector.js';
import { rebuildProjection } from '../../src/projection/rebuild.js';
import { deleteKeys, openRedisStore, rawRedis, REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { comparable } from './helpers/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-kill-'));
const prefix = uniquePrefix('kill');
const freshPrefix = uniquePrefix('kill-fresh');
const env = { ...process.env, TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: prefix };

// Whatever happens to the test (a timeout, say), no projector outlives it.
const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  const raw = rawRedis();
  for (const p of [prefix, freshPrefix]) await deleteKeys(raw, p);
  await raw.quit();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `tokenledger projection run` (or, now and then, `projection rebuild`) and kills it with
 * SIGKILL after a random delay: mostly counted from the moment it says it is following (so it
 * dies in the middle of catching up), sometimes from the spawn (so it dies while starting).
 */
async function killOnce(command: 'run' | 'rebuild'): Promise<void> {
  const args = command === 'run' ? ['projection', 'run', '--batch-size', '5'] : ['projection', 'rebuild'];
  const child = spawn(process.execPath, ['bin/run.js', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
  const started = new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => chunk.toString().includes('following') && resolve());
    void exited.then(resolve);
  });
  if (command === 'run' && Math.random() < 0.75) {
    await started;
    await sleep(Math.random() * 80);
  } else {
    await sleep(100 + Math.random() * 700);
  }
  child.kill('SIGKILL');
  await exited;
}

it('a projector killed with SIGKILL at random points, 50+ times, ends equal to a fresh rebuild', async () => {
  const events = new SqliteEventStore(join(dir, 'events.db'));
  const checker = await openRedisStore(prefix);
  const fresh = await openRedisStore(freshPrefix);
  try {
    await appendHistory(events, { users: 100 });
    // Built once up front: the kills are to land in incremental catch-ups (an empty store would
    // be rebuilt first, and a rebuild killed before its switch leaves the live projection alone).
    await new Projector(events, checker).catchUp();
    let kills = 0;
    let interrupted = 0;
    // Two lanes at once: besides being killed, projectors race each other.
    const lane = async (name: string) => {
      for (let round = 0; round < 26; round++) {
        await appendHistory(events, { users: 8, prefix: `${name}${round}-` });
        const before = await checker.checkpoint();
        await killOnce(round % 9 === 8 ? 'rebuild' : 'run');
        kills += 1;
        const after = await checker.checkpoint();
        if (after > before && after < (await events.headPosition())) interrupted += 1;
      }
    };
    await Promise.all([lane('a'), lane('b')]);
    expect(kills).toBeGreaterThanOrEqual(50);
    // Most kills must land in the middle of real work, or this test would prove little.
    expect(interrupted).toBeGreaterThanOrEqual(10);

    const head = await events.headPosition();
    expect(head).toBeGreaterThan(2_000n);
    await new Projector(events, checker).catchUp();
    await rebuildProjection(events, fresh);
    const resumed = comparable(await checker.dump());
    expect(resumed.checkpoint).toBe(head);
    expect(resumed).toEqual(comparable(await fresh.dump()));
  } finally {
    await checker.close();
    await fresh.close();
    await events.close();
  }
  // About 30 s on an idle machine (52 process starts); the margin is for a busy one.
}, 180_000);

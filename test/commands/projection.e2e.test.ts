import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digestKey } from '../../src/domain/index.js';
import { deleteKeys, openRedisStore, rawRedis, REDIS_URL, uniquePrefix } from '../projection/helpers/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-projection-cli-'));
const prefix = uniquePrefix('cli');
const base = { ...process.env, TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_PREFIX: prefix, REDIS_URL: '' };
const redisEnv = { ...base, TOKENLEDGER_REDIS_URL: REDIS_URL };
const memoryEnv = { ...base, TOKENLEDGER_REDIS_URL: '' };

afterAll(async () => {
  const raw = rawRedis();
  await deleteKeys(raw, prefix);
  await raw.quit();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/run.js', ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('tokenledger projection', () => {
  it('status and rebuild on Redis: checkpoint, head and lag, as text and as JSON', async () => {
    expect((await cli(['user', 'create', 'alice', '--no-password'], memoryEnv)).code).toBe(0);
    const created = await cli(['token', 'create', 'alice'], memoryEnv);
    const key = /Generated token (\S+)/.exec(created.stdout)![1]!;

    // Written without Redis configured: there is no projection in Redis yet.
    const behind = await cli(['projection', 'status', '--json'], redisEnv);
    expect(behind.code).toBe(0);
    expect(JSON.parse(behind.stdout)).toMatchObject({ backend: 'redis', checkpoint: 0, empty: true, head: 2, lag: 2 });

    const rebuilt = await cli(['projection', 'rebuild', '--json'], redisEnv);
    expect(rebuilt.code).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ backend: 'redis', rebuilt: true, events: 2, checkpoint: 2 });

    const status = await cli(['projection', 'status'], redisEnv);
    expect(status.stdout).toMatch(/^checkpoint\s+2$/m);
    expect(JSON.parse((await cli(['projection', 'status', '--json'], redisEnv)).stdout)).toMatchObject({ empty: false, lag: 0 });
    expect(status.stdout).toMatch(/^lag\s+0 events$/m);
    expect(status.stdout).not.toContain('redis://');

    const store = await openRedisStore(prefix);
    expect(await store.lookup(digestKey(key))).toMatchObject({ username: 'alice' });
    await store.close();
  });

  it('rebuild on a terminal shows a progress bar with rate and ETA on stderr', async () => {
    const command = `${process.execPath} bin/run.js projection rebuild`;
    const shown = await new Promise<string>((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { env: redisEnv }, (_e, stdout) => resolve(stdout));
    });
    expect(shown).toMatch(/\d+ events\/s \| ETA \d+s/);
    expect(shown).toContain('Rebuilt the projection');
  });

  it('says there is nothing to rebuild, and refuses `run`, with the memory projection', async () => {
    const rebuilt = await cli(['projection', 'rebuild'], memoryEnv);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toContain('Nothing to rebuild: the projection is memory');
    const run = await cli(['projection', 'run'], memoryEnv);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'TOKENLEDGER_REDIS_URL: `projection run` needs the Redis projection (the memory projection lives inside each server)',
    );
  });

  it('rebuild folds the log as the directory projector reads it (sealed fields opened): lists show names, not ciphertext', async () => {
    const env = { ...memoryEnv, TOKENLEDGER_STORE: `sqlite:${join(dir, 'sealed.db')}` };
    expect((await cli(['user', 'create', 'dora', '--no-password'], env)).code).toBe(0);
    expect((await cli(['token', 'create', 'dora', '--name', 'ci', '--description', 'dora-ci-runner'], env)).code).toBe(0);
    const before = [(await cli(['user', 'list'], env)).stdout, (await cli(['token', 'list', 'dora'], env)).stdout];
    expect(before[1]).toContain('ci');

    const rebuilt = await cli(['projection', 'rebuild'], env);
    expect(rebuilt.code).toBe(0);
    const after = [(await cli(['user', 'list'], env)).stdout, (await cli(['token', 'list', 'dora'], env)).stdout];
    expect(after).toEqual(before);
    expect(after[0]).toMatch(/^dora\s/m);
    expect(after.join('\n')).not.toContain('sealed:');
  });

  it('exits 3 with one line, no stack, when Redis is unreachable', async () => {
    const result = await cli(['projection', 'status'], { ...base, TOKENLEDGER_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^TOKENLEDGER_REDIS_URL: cannot connect to Redis at 127\.0\.0\.1:1/);
  });

  it('`projection run` follows new events and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/run.js', 'projection', 'run'], { env: redisEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const following = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('following')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await following;
      const created = await cli(['token', 'create', 'alice', '--name', 'ci'], memoryEnv);
      const key = /Generated token (\S+)/.exec(created.stdout)![1]!;
      const store = await openRedisStore(prefix);
      let seen = false;
      for (let i = 0; i < 200 && !seen; i++) {
        seen = (await store.lookup(digestKey(key))) !== null;
        if (!seen) await new Promise((r) => setTimeout(r, 10));
      }
      await store.close();
      expect(seen).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(stderr).toMatch(/projector stopped at checkpoint 3/);
  });
});

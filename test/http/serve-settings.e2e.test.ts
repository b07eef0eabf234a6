import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BIN } from './process.js';

/** SPEC §1: a bad setting fails `serve` at start with one line naming it, a non-zero exit, no stack trace. */
const dir = mkdtempSync(join(tmpdir(), 'tl-serve-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(env: Record<string, string>, ...args: string[]) {
  const run = spawnSync(process.execPath, [BIN, 'serve', ...args], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stderr: run.stderr.trim(), stdout: run.stdout };
}

it.each([
  [{ TOKENLEDGER_STORE: 'mongodb://x' }, [], 2, /^TOKENLEDGER_STORE: unsupported store/],
  [{ TOKENLEDGER_REDIS_URL: 'redis://127.0.0.1:1' }, [], 3, /^TOKENLEDGER_REDIS_URL: cannot connect to Redis at 127\.0\.0\.1:1/],
  [{ TOKENLEDGER_LOGIN_THROTTLE: 'lots' }, [], 2, /^TOKENLEDGER_LOGIN_THROTTLE: "lots" is not a rate/],
] as const)('%o %o: exit %i, one line', (env, args, status, line) => {
  const run = serve(env, ...args);
  expect(run.status).toBe(status);
  expect(run.stderr).toMatch(line);
  expect(run.stderr.split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
});

it('a port in use: exit 2 naming HOST/PORT', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    const port = (blocker.address() as { port: number }).port;
    const run = serve({ TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}` }, '--port', String(port));
    expect([run.status, run.stderr]).toEqual([2, `HOST/PORT: cannot listen on 127.0.0.1:${port} (the address is already in use)`]);
  } finally {
    blocker.close();
  }
});

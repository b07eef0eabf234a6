import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/app/ledger.js';
import { loadSettings } from '../../src/config.js';
import { REDIS_URL, dropPrefix } from './harness.js';
import { spawnServe } from './process.js';

const HOOK = resolve('test/helpers/record-modules.mjs');
const dir = mkdtempSync(join(tmpdir(), 'tl-serve-modules-'));
const prefix = `tltest:modules:${randomUUID()}:`;
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropPrefix(prefix);
});

/**
 * Starts a fresh `serve` with the module recorder, logs in and authenticates once (so the lazy
 * parts of the request path are loaded too), stops it, and returns every module it loaded.
 */
async function modulesOfServe(name: string, env: Record<string, string>): Promise<string[]> {
  const store = `sqlite:${join(dir, `${name}.db`)}`;
  const ledger = await openLedger({ settings: loadSettings({ store }, {}) });
  await ledger.registerUser({ username: 'alice', password: 'wonderland-123' });
  await ledger.close();
  const file = join(dir, `${name}.modules`);
  const server = await spawnServe(dir, { TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '', ...env, TL_MODULES_FILE: file }, ['--import', HOOK]);
  try {
    const login = await fetch(`${server.url}/api-token-auth/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'wonderland-123' }),
    });
    const { token } = (await login.json()) as { token: string };
    expect((await fetch(`${server.url}/api/whoami/`, { headers: { Authorization: `Token ${token}` } })).status).toBe(200);
  } finally {
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  }
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** ioredis itself, and the module through which tokenledger loads it. */
const ioredis = (modules: string[]) => modules.filter((m) => /[\\/]node_modules[\\/]ioredis[\\/]|[\\/]projection[\\/]redis[\\/]ioredis\.js$/.test(m));

describe('the modules a fresh `serve` loads', () => {
  it('on the memory projection: never ioredis', async () => {
    const modules = await modulesOfServe('memory', {});
    // The recorder saw the process: the server, the middleware and a CommonJS dependency.
    expect(modules.some((m) => m.endsWith('/dist/src/http/serve.js'))).toBe(true);
    expect(modules.some((m) => m.endsWith('/dist/src/koa/token-auth.js'))).toBe(true);
    expect(modules.some((m) => /[\\/]node_modules[\\/]koa[\\/]/.test(m))).toBe(true);
    expect(ioredis(modules)).toEqual([]);
  });

  it('on the Redis projection, the same recorder does see ioredis', async () => {
    const modules = await modulesOfServe('redis', { TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: prefix, TOKENLEDGER_LOGIN_THROTTLE: 'off' });
    expect(ioredis(modules).some((m) => /[\\/]node_modules[\\/]ioredis[\\/]/.test(m))).toBe(true);
    expect(ioredis(modules).some((m) => m.endsWith('/dist/src/projection/redis/ioredis.js'))).toBe(true);
  });
});

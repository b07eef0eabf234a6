import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pgSchemas } from '../eventstore/postgres-fixture.js';
import { loadSettings } from '../../src/config.js';
import { MESSAGES } from '../../src/koa/index.js';
import { openProjection, type ProjectionRuntime } from '../../src/projection/open.js';
import { dropPrefix, testPrefix, whoamiApp } from './fixtures.js';
import { get, listen, type Listening } from './http.js';

const BIN = resolve('bin/run.js');
const REDIS_URL = 'redis://127.0.0.1:6379';
/** The bound for a server on the memory projection to see another process's append. */
const MEMORY_BOUND_MS = 250;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** When the test saw the process exit. */
  exitedAt: number;
}

/**
 * End to end: a server runs the whole time while the real CLI (`node bin/run.js`, built)
 * changes users and tokens in other processes. With Redis, the CLI's read-your-writes makes the
 * change visible when it exits; with the memory projection, the server's projector polls the log.
 */
export function cliScenario(backend: 'memory' | 'redis', store: 'sqlite' | 'postgres' = 'sqlite'): void {
  const dir = mkdtempSync(join(tmpdir(), 'tl-b2-e2e-'));
  const prefix = testPrefix(`e2e-${backend}-${store}`);
  // On PostgreSQL the same scenario runs on a schema of its own, dropped at the end.
  const schemas = pgSchemas('scenario');
  const storeUrl = store === 'postgres' ? schemas.url() : `sqlite:${join(dir, 'events.db')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, TOKENLEDGER_STORE: storeUrl, TOKENLEDGER_REDIS_PREFIX: prefix };
  delete env.REDIS_URL;
  delete env.TOKENLEDGER_REDIS_URL;
  if (backend === 'redis') env.TOKENLEDGER_REDIS_URL = REDIS_URL;
  let runtime: ProjectionRuntime;
  let server: Listening;

  function cli(...args: string[]): Promise<Run> {
    return cliWithInput('', ...args);
  }

  function cliWithInput(input: string, ...args: string[]): Promise<Run> {
    return new Promise((done) => {
      const child = execFile('node', [BIN, ...args], { env }, (error, stdout, stderr) => {
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, exitedAt: Date.now() });
      });
      child.stdin?.end(input);
    });
  }

  async function cliOk(...args: string[]): Promise<Run> {
    const run = await cli(...args);
    expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    return run;
  }

  const keyOf = (run: Run) => /^Generated token (\S+) for user alice$/m.exec(run.stdout)![1]!;
  const whoami = (key: string) => get(server, '/api/whoami/', `Token ${key}`);

  /**
   * The first answer for `key` after the command: with Redis it must already be `status`; with
   * memory, polled answers may show the old state for at most MEMORY_BOUND_MS after the exit.
   */
  async function expectNext(run: Run, key: string, status: number, detail?: string): Promise<void> {
    for (;;) {
      const reply = await whoami(key);
      const matches = reply.status === status && (detail === undefined || reply.body === JSON.stringify({ detail }));
      if (matches) return;
      if (backend === 'redis' || Date.now() - run.exitedAt > MEMORY_BOUND_MS) {
        expect({ status: reply.status, body: reply.body }).toEqual({ status, body: detail === undefined ? expect.any(String) : JSON.stringify({ detail }) });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeAll(async () => {
    await cliOk('user', 'create', 'alice', '--no-password');
    const settings = loadSettings({}, env);
    runtime = await openProjection(settings, { pollMs: 50 });
    await runtime.projector.catchUp();
    runtime.projector.start();
    server = await listen(whoamiApp(runtime.store));
  });

  afterAll(async () => {
    await server?.close();
    await runtime?.close();
    if (backend === 'redis') await dropPrefix(REDIS_URL, prefix);
    if (store === 'postgres') await schemas.dropAll();
    rmSync(dir, { recursive: true, force: true });
  });

  let current = '';

  it('token revoke: the old key gets "Invalid token." on the next request', async () => {
    const created = await cliOk('token', 'create', 'alice');
    current = keyOf(created);
    await expectNext(created, current, 200);
    expect((await cliWithInput(`${current}\n`, 'token', 'verify')).code).toBe(0);
    const revoked = await cliOk('token', 'revoke', 'alice');
    await expectNext(revoked, current, 401, MESSAGES.invalidToken);
    expect((await cliWithInput(`${current}\n`, 'token', 'verify')).code).toBe(1);
  });

  it('drf_create_token -r: the old key gets "Invalid token.", the new one works', async () => {
    const created = await cliOk('token', 'create', 'alice');
    const old = keyOf(created);
    await expectNext(created, old, 200);
    const reset = await cliOk('drf_create_token', '-r', 'alice');
    current = keyOf(reset);
    expect(current).not.toBe(old);
    await expectNext(reset, old, 401, MESSAGES.invalidToken);
    await expectNext(reset, current, 200);
  });

  it('token rotate --grace: the new key works at once, the old one until the grace ends', async () => {
    const old = current;
    const rotated = await cliOk('token', 'rotate', 'alice', '--grace', '5s', '--json');
    const { key, token } = JSON.parse(rotated.stdout) as { key: string; token: { graceUntil: string } };
    current = key;
    await expectNext(rotated, key, 200);
    const graceEnds = Date.parse(token.graceUntil);
    expect(graceEnds).toBeGreaterThan(Date.now() + 500);
    expect((await whoami(old)).status).toBe(200);
    await new Promise((r) => setTimeout(r, graceEnds - Date.now() - 300));
    expect((await whoami(old)).status).toBe(200);
    await new Promise((r) => setTimeout(r, graceEnds - Date.now() + 20));
    expect(await whoami(old)).toMatchObject({ status: 401, body: JSON.stringify({ detail: MESSAGES.invalidToken }) });
    expect((await whoami(key)).status).toBe(200);
  });

  it('user deactivate: every token of the user gets "User inactive or deleted."; activate: 200 again', async () => {
    const ci = keyOf(await cliOk('token', 'create', 'alice', '--name', 'ci'));
    const deactivated = await cliOk('user', 'deactivate', 'alice');
    for (const key of [current, ci]) await expectNext(deactivated, key, 401, MESSAGES.inactive);
    const activated = await cliOk('user', 'activate', 'alice');
    for (const key of [current, ci]) await expectNext(activated, key, 200);
  });

  if (backend === 'redis') {
    it('projection rebuild: valid keys stay valid, revoked ones stay revoked', async () => {
      const revoked = keyOf(await cliOk('token', 'create', 'alice', '--name', 'gone'));
      await cliOk('token', 'revoke', 'alice', '--name', 'gone');
      const rebuilt = await cliOk('projection', 'rebuild');
      await expectNext(rebuilt, current, 200);
      await expectNext(rebuilt, revoked, 401, MESSAGES.invalidToken);
    });
  }
}

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../http/process.js';

// Each app of examples/ started as the README says (`node examples/<name>.mjs`), with a key made by
// `drf_create_token`: the key gets in, no key is refused with DRF's answer.
const dir = mkdtempSync(join(tmpdir(), 'tl-examples-'));
const env = { TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' };
let key = '';
beforeAll(() => {
  cli(env, 'user', 'create', 'alice', '--no-password');
  key = /Generated token (\S+) for user alice/.exec(cli(env, 'drf_create_token', 'alice'))![1]!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(env: Record<string, string>, ...args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
}

async function start(name: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [resolve(`examples/${name}.mjs`)], { cwd: dir, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(output);
      if (found) done(found[1]!);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then((code) => fail(new Error(`${name} exited (${code}) before listening: ${output}`)));
  });
  return { url, stop: async () => (child.kill('SIGTERM'), await exited) };
}

describe.each(['koa', 'express', 'fastify'])('examples/%s.mjs', (name) => {
  it('protects /hello/ with a key from drf_create_token', async () => {
    const app = await start(name, env);
    try {
      const ok = await fetch(`${app.url}/hello/`, { headers: { Authorization: `Token ${key}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ hello: 'alice' });
      const none = await fetch(`${app.url}/hello/`);
      expect(none.status).toBe(401);
      expect(await none.text()).toBe('{"detail":"Authentication credentials were not provided."}');
      expect(none.headers.get('www-authenticate')).toBe('Token');
    } finally {
      expect(await app.stop()).toBe(0);
    }
  });
});

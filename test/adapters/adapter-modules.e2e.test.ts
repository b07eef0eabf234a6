import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const HOOK = resolve('test/helpers/record-modules.mjs');
const dir = mkdtempSync(join(tmpdir(), 'tl-adapter-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every module a fresh process loads when it runs `script` (an ES module), in the built package. */
function modulesOf(name: string, script: string): string[] {
  const file = join(dir, `${name}.modules`);
  execFileSync(process.execPath, ['--import', HOOK, '--input-type=module', '-e', script], { env: { ...process.env, TL_MODULES_FILE: file }, stdio: 'pipe' });
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

const pkg = (name: string) => new RegExp(`[\\\\/]node_modules[\\\\/]${name}[\\\\/]`);
const FRAMEWORKS = { koa: pkg('koa'), express: pkg('express'), fastify: pkg('fastify') };
const ADAPTERS = { koa: /[\\/]dist[\\/]src[\\/]koa[\\/]/, express: /[\\/]dist[\\/]src[\\/]express[\\/]/, fastify: /[\\/]dist[\\/]src[\\/]fastify[\\/]/ };

describe('importing one adapter loads no other framework', () => {
  it.each(['koa', 'express', 'fastify'] as const)('tokenledger/%s', (adapter) => {
    // Imported by package name, as an application would, and used once.
    const modules = modulesOf(adapter, `import { tokenAuth } from 'tokenledger/${adapter}'; if (typeof tokenAuth !== 'function') process.exit(3);`);
    expect(modules.some((m) => ADAPTERS[adapter].test(m))).toBe(true);
    for (const other of ['koa', 'express', 'fastify'] as const) {
      if (other === adapter) continue;
      expect(modules.filter((m) => FRAMEWORKS[other].test(m) || ADAPTERS[other].test(m)), other).toEqual([]);
    }
  });

  it('the same recorder does see a framework that is loaded (it can fail)', () => {
    const modules = modulesOf('control', `await import('express'); await import('fastify'); await import('koa');`);
    for (const framework of Object.values(FRAMEWORKS)) expect(modules.some((m) => framework.test(m))).toBe(true);
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';

it('the built package exports tokenAuth from `tokenledger/koa`, with type declarations', () => {
  // Self-reference by package name, as an application that installed tokenledger would import it.
  const script = "import { tokenAuth } from 'tokenledger/koa'; process.stdout.write(typeof tokenAuth({ projection: { lookup: async () => null } }));";
  expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })).toBe('function');
  expect(existsSync('dist/src/koa/index.d.ts')).toBe(true);
});

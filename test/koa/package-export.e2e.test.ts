import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';

it.each(['koa', 'express', 'fastify'])('the built package exports tokenAuth from `tokenledger/%s`, with type declarations', (adapter) => {
  // Self-reference by package name, as an application that installed tokenledger would import it.
  const script = `import { tokenAuth } from 'tokenledger/${adapter}'; process.stdout.write(typeof tokenAuth);`;
  expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })).toBe('function');
  expect(existsSync(`dist/src/${adapter}/index.d.ts`)).toBe(true);
});

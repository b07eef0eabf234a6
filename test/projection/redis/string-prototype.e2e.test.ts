import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * ioredis leaves String.prototype in V8's slow dictionary mode (see src/auth/fast-strings.ts),
 * which slows every string method call of the process. Checked in a fresh Node process, with
 * V8's own `%HasFastProperties`, after loading what a real process loads.
 */
function stringPrototypeIsFast(imports: string[]): boolean {
  const script = `${imports.map((m) => `await import(${JSON.stringify(m)});`).join(' ')} process.stdout.write(String(%HasFastProperties(String.prototype)));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as boolean;
}

describe('String.prototype stays fast', () => {
  // Node 20's V8, the one this project runs on; another Node may not have the problem at all.
  it.runIf(process.versions.node.startsWith('20.'))('ioredis alone leaves it slow: what the repair is for (if this fails, Node or ioredis fixed it and the repair can go)', () => {
    expect(stringPrototypeIsFast(['ioredis'])).toBe(false);
  });

  it('after loading the Redis projection', () => {
    expect(stringPrototypeIsFast([`${process.cwd()}/dist/src/projection/redis/store.js`])).toBe(true);
  });

  it('after loading `tokenledger serve` (it loads ioredis even on the memory projection)', () => {
    expect(stringPrototypeIsFast([`${process.cwd()}/dist/src/http/serve.js`])).toBe(true);
  });

  it('in an application that uses tokenledger/koa and imports ioredis itself, before or after', () => {
    expect(stringPrototypeIsFast(['ioredis', 'tokenledger/koa'])).toBe(true);
    expect(stringPrototypeIsFast(['tokenledger/koa', 'ioredis'])).toBe(true);
  });
});

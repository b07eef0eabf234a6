import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const dist = (path: string) => `${process.cwd()}/dist/src/${path}`;

/**
 * ioredis leaves String.prototype in V8's slow dictionary mode (see
 * src/projection/redis/string-prototype.ts), which slows every string method call of the process.
 * Checked in a fresh Node process, with V8's own `%HasFastProperties`, after it ran `steps`: a
 * module to import, or `repair` (what an application does: call restoreFastStringPrototype).
 */
function stringPrototypeIsFast(steps: string[]): boolean {
  const code = steps.map((step) =>
    step === 'repair' ? `(await import('tokenledger')).restoreFastStringPrototype();` : `await import(${JSON.stringify(step)});`,
  );
  const script = `${code.join(' ')} process.stdout.write(String(%HasFastProperties(String.prototype)));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as boolean;
}

// Node 20's V8, the one this project runs on; another Node may not have the problem at all.
const node20 = process.versions.node.startsWith('20.');

describe('String.prototype stays fast', () => {
  it.runIf(node20)('ioredis alone leaves it slow: what the repair is for (if this fails, Node or ioredis fixed it and the repair can go)', () => {
    expect(stringPrototypeIsFast(['ioredis'])).toBe(false);
  });

  it('after loading the Redis projection (tokenledger loads ioredis through the module that repairs it)', () => {
    expect(stringPrototypeIsFast([dist('projection/redis/store.js')])).toBe(true);
  });

  it('after loading `tokenledger serve` and the Redis projection it opens with TOKENLEDGER_REDIS_URL', () => {
    expect(stringPrototypeIsFast([dist('http/serve.js')])).toBe(true);
    expect(stringPrototypeIsFast([dist('http/serve.js'), dist('projection/redis/store.js')])).toBe(true);
  });

  it.runIf(node20)('the header parser does not repair it behind an application’s back: the repair is an explicit opt-in', () => {
    expect(stringPrototypeIsFast(['ioredis', 'tokenledger/koa'])).toBe(false);
  });

  it('an application that uses tokenledger/koa and imports ioredis itself calls restoreFastStringPrototype, before or after', () => {
    expect(stringPrototypeIsFast(['ioredis', 'tokenledger/koa', 'repair'])).toBe(true);
    expect(stringPrototypeIsFast(['repair', 'tokenledger/koa', 'ioredis'])).toBe(true);
  });
});

import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { freshStore, keyOf, ledgerOf, tl } from './cli.js';

// Redis that cannot be reached: every write is appended to the log, then read-your-writes fails.
const DOWN = ['--redis-url', 'redis://127.0.0.1:1'];

describe('a write whose projection update fails (Redis down)', () => {
  const { dir, url: store } = freshStore();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('token create still prints the new key (it exists nowhere else), then exits 3 saying why', async () => {
    const ledger = await ledgerOf(store);
    await ledger.registerUser({ username: 'alice', password: null });
    await ledger.close();

    const run = await tl(['token', 'create', 'alice', ...DOWN], { store });
    expect(run.code).toBe(3);
    const key = keyOf(run);
    expect(run.stderr).toMatch(/^The token was issued \(its key is printed above\), but the projection does not reflect it yet: .*Redis/);
    expect(run.stderr).not.toContain(key);

    // The key is in the log: it is valid, and a second create refuses as for any existing token.
    expect((await tl(['token', 'verify'], { store, input: key })).code).toBe(0);
    expect((await tl(['token', 'create', 'alice'], { store })).code).toBe(1);
  });

  it('token rotate --json carries the new key in its error document', async () => {
    const run = await tl(['token', 'rotate', 'alice', '--json', ...DOWN], { store });
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; exitCode: number; key: string } };
    expect(error).toMatchObject({ code: 'projection_behind', exitCode: 3 });
    expect(run.stderr).not.toContain(error.key);
    expect((await tl(['token', 'verify'], { store, input: error.key })).code).toBe(0);
  });

  it('user create says the change is recorded, exit 3; the user exists', async () => {
    const run = await tl(['user', 'create', 'bob', '--no-password', ...DOWN], { store });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^The change is recorded in the log, but the projection does not reflect it yet/);
    expect((await tl(['user', 'list', '--json'], { store })).stdout).toContain('"bob"');
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { freshStore, ledgerOf, tl } from '../cli.js';

describe('tokenledger token verify (key on stdin)', () => {
  it('answers valid / invalid / expired / user inactive with exit 0 or 1 and says why', async () => {
    const { url: store } = freshStore();
    const ledger = await ledgerOf(store);
    await ledger.registerUser({ username: 'alice', password: null });
    const { key } = await ledger.issueToken({ username: 'alice' });
    const short = await ledger.issueToken({ username: 'alice', name: 'short', expiresIn: '1s' });
    const expiresAt = Date.parse(short.token.expiresAt!);

    const valid = await tl(['token', 'verify'], { store, input: `${key}\n` });
    expect(valid).toMatchObject({ code: 0, stdout: 'valid: token "default" of user alice\n' });

    const mistyped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    expect(await tl(['token', 'verify'], { store, input: mistyped })).toMatchObject({ code: 1, stdout: '' });
    const unknown = await tl(['token', 'verify'], { store, input: `${'0'.repeat(40)}\n` });
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: 'Invalid token.\n' });

    // Honest expiry: wait until the 1 s lifetime is over (no clock tricks).
    await sleep(Math.max(0, expiresAt + 50 - Date.now()));
    const expired = await tl(['token', 'verify'], { store, input: `${short.key}\n` });
    expect(expired).toMatchObject({ code: 1, stdout: '', stderr: 'Token has expired.\n' });
    // ... and it was valid before its expiry, by the log's own history.
    const before = await tl(['token', 'verify', '--at', new Date(expiresAt - 500).toISOString(), '--json'], { store, input: short.key });
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ outcome: 'valid', username: 'alice', name: 'short' });

    await ledger.deactivateUser('alice');
    await ledger.close();
    const inactive = await tl(['token', 'verify', '--json'], { store, input: `${key}\n` });
    expect(inactive.code).toBe(1);
    expect(JSON.parse(inactive.stdout)).toMatchObject({ outcome: 'inactive', reason: 'User inactive or deleted.' });
    expect(inactive.stderr).toBe('User inactive or deleted.\n');
  });

  it('treats an empty stdin and a bad --at as usage errors', async () => {
    const { url: store } = freshStore();
    expect((await tl(['token', 'verify'], { store, input: '' })).code).toBe(2);
    const badTime = await tl(['token', 'verify', '--at', 'yesterday-ish'], { store, input: 'x' });
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--at');
  });
});

import { describe, expect, it } from 'vitest';
import { freshStore, keyOf, ledgerOf, tl } from './cli.js';

describe('tokenledger user …', () => {
  it('creates, refuses duplicates and bad input, changes passwords', async () => {
    const { url: store } = freshStore();
    // stdin is a pipe, not a terminal: the password is its first line.
    expect(await tl(['user', 'create', 'alice', '--staff'], { store, input: 'from-a-pipe\n' })).toMatchObject({ code: 0, stdout: '' });
    const [duplicate, badName, both, blank, nobody] = await Promise.all([
      tl(['user', 'create', 'alice', '--no-password'], { store }),
      tl(['user', 'create', 'bad name', '--no-password'], { store }),
      tl(['user', 'create', 'carol', '--password-stdin', '--no-password'], { store }),
      tl(['user', 'create', 'carol', '--password-stdin'], { store, input: '\n' }),
      tl(['user', 'passwd', 'nobody'], { store, input: 'x\n' }),
    ]);
    expect(duplicate).toMatchObject({ code: 1, stderr: 'User alice already exists\n' });
    expect(badName.code).toBe(2);
    expect(both.code).toBe(2);
    expect(blank).toMatchObject({ code: 2, stderr: "Blank passwords aren't allowed (expected one line on stdin).\n" });
    expect(nobody).toMatchObject({ code: 1, stderr: 'User nobody does not exist\n' });

    const passwd = await tl(['user', 'passwd', 'alice', '--json'], { store, input: 'new-password\n' });
    expect(passwd.code).toBe(0);
    expect(JSON.parse(passwd.stdout)).toMatchObject({ username: 'alice', hasPassword: true, isStaff: true });
    expect(passwd.stdout).not.toContain('new-password');
  });

  it('deactivates and activates: the user\'s tokens answer "User inactive or deleted." meanwhile', async () => {
    const { url: store } = freshStore();
    const ledger = await ledgerOf(store);
    await ledger.registerUser({ username: 'alice', password: null });
    const { key } = await ledger.issueToken({ username: 'alice' });

    const deactivated = await tl(['user', 'deactivate', 'alice', '--json'], { store });
    expect(JSON.parse(deactivated.stdout)).toMatchObject({ changed: true, user: { active: false } });
    expect((await ledger.verifyKey(key)).reason).toBe('User inactive or deleted.');
    const again = await tl(['user', 'deactivate', 'alice'], { store });
    expect(again).toMatchObject({ code: 0, stderr: 'User alice was already deactivated.\n' });

    expect(await tl(['user', 'activate', 'alice'], { store })).toMatchObject({ code: 0, stderr: 'User alice activated.\n' });
    expect((await ledger.verifyKey(key)).outcome).toBe('valid');
    expect((await tl(['user', 'activate', 'nobody'], { store })).code).toBe(1);
    await ledger.close();
  });

  it('rotates with a grace period and revokes', async () => {
    const { url: store } = freshStore();
    const ledger = await ledgerOf(store);
    await ledger.registerUser({ username: 'dave', password: null });
    const { key: old } = await ledger.issueToken({ username: 'dave' });

    const rotated = await tl(['token', 'rotate', 'dave', '--grace', '10m'], { store });
    const fresh = keyOf(rotated);
    expect(rotated.stderr).toMatch(/^The previous key of token "default" works until \S+Z\.\n$/);
    expect((await ledger.verifyKey(old)).outcome).toBe('valid');
    expect((await ledger.verifyKey(fresh)).outcome).toBe('valid');

    const [both, unknown] = await Promise.all([
      tl(['token', 'revoke', 'dave', '--name', 'default', '--all'], { store }),
      tl(['token', 'revoke', 'dave', '--name', 'nope'], { store }),
    ]);
    expect(both.code).toBe(2);
    expect(unknown).toMatchObject({ code: 1, stderr: 'User dave has no token named nope\n' });
    const revoked = await tl(['token', 'revoke', 'dave', '--all', '--reason', 'test', '--json'], { store });
    expect(JSON.parse(revoked.stdout)).toEqual({ username: 'dave', revoked: ['default'] });
    for (const key of [old, fresh]) expect((await ledger.verifyKey(key)).outcome).toBe('not_found');
    await ledger.close();
  });
});

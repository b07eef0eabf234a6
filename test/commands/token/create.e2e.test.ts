import { describe, expect, it } from 'vitest';
import { freshStore, keyOf, tl } from '../cli.js';

describe('tokenledger token create (SPEC §3)', () => {
  it('runs the DRF drf_create_token flow for alice', async () => {
    const { url: store } = freshStore();
    const created = await tl(['user', 'create', 'alice', '--password-stdin'], { store, input: 'wonderland-123\n' });
    expect(created).toMatchObject({ code: 0, stdout: '' });

    const first = await tl(['token', 'create', 'alice'], { store });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Generated token tl_[0-9A-Za-z]{36} for user alice\n$/);
    const key = keyOf(first);

    const again = await tl(['token', 'create', 'alice'], { store });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toMatch(/created \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(again.stderr).toContain(key.slice(0, 8));
    expect(again.stderr).not.toContain(key);
    expect(again.stderr).toContain('--reset');
    expect(again.stderr.trim().split('\n')).toHaveLength(1);

    const reset = await tl(['drf_create_token', '-r', 'alice'], { store });
    expect(reset.code).toBe(0);
    expect(keyOf(reset)).not.toBe(key);
    expect(reset.stdout).toMatch(/^Generated token tl_\S+ for user alice\n$/);

    // --reset kills the old key at once; the new one works.
    expect((await tl(['token', 'verify'], { store, input: `${key}\n` })).code).toBe(1);
    expect((await tl(['token', 'verify'], { store, input: `${keyOf(reset)}\n` })).code).toBe(0);
  });

  it('refuses an unknown user with DRF\'s message and a missing username as a usage error', async () => {
    const { url: store } = freshStore();
    const [nobody, missing, unknownFlag, badFormat] = await Promise.all([
      tl(['drf_create_token', 'nobody'], { store }),
      tl(['drf_create_token'], { store }),
      tl(['token', 'create', 'alice', '--bogus'], { store }),
      tl(['token', 'create', 'alice', '--format', 'hex'], { store }),
    ]);
    expect(nobody).toMatchObject({ code: 1, stdout: '', stderr: 'Cannot create the Token: user nobody does not exist\n' });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('Missing 1 required arg');
    expect(unknownFlag.code).toBe(2);
    expect(badFormat.code).toBe(2);
  });

  it('issues DRF-format keys, and --json prints one JSON document', async () => {
    const { url: store } = freshStore();
    await tl(['user', 'create', 'carol', '--no-password'], { store });
    const drf = await tl(['token', 'create', 'carol', '--format', 'drf'], { store });
    expect(drf.code).toBe(0);
    expect(keyOf(drf)).toMatch(/^[0-9a-f]{40}$/);

    const json = await tl(['token', 'create', 'carol', '--name', 'ci', '--format', 'drf', '--scope', 'tokens:read', '--scope', 'audit:read', '--expires-in', '90d', '--json'], { store });
    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout);
    expect(document.key).toMatch(/^[0-9a-f]{40}$/);
    expect(document.token).toMatchObject({ username: 'carol', name: 'ci', format: 'drf', scopes: ['tokens:read', 'audit:read'], keyPrefix: document.key.slice(0, 8) });
    expect(Date.parse(document.token.expiresAt) - Date.parse(document.token.createdAt)).toBe(90 * 86_400_000);

    const refused = await tl(['token', 'create', 'carol', '--name', 'ci', '--json'], { store });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'token_exists', exitCode: 1 });
  });

  it("takes Django's options: -v/--verbosity 0 to 3 (the key line at every level, as DRF prints it), --no-color, --version", async () => {
    const { url: store } = freshStore();
    await tl(['user', 'create', 'dave', '--no-password'], { store });
    const runs = [];
    for (const [name, options] of [['v0', ['-v', '0']], ['v3', ['--verbosity', '3']], ['v1', ['--verbosity=1', '--no-color']]] as const) {
      runs.push(await tl(['drf_create_token', ...options, '--name', name, 'dave'], { store }));
    }
    for (const run of runs) expect(run).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/^Generated token tl_[0-9A-Za-z]{36} for user dave\n$/) });

    const [tooVerbose, notANumber, version, versionJson, noUser] = await Promise.all([
      tl(['drf_create_token', '-v', '4', 'dave'], { store }),
      tl(['drf_create_token', '--verbosity', 'loud', 'dave'], { store }),
      tl(['drf_create_token', '--version'], { store }),
      tl(['token', 'create', '--version', '--json'], { store }),
      tl(['drf_create_token', '-v', '0', 'nobody'], { store }),
    ]);
    expect([tooVerbose.code, tooVerbose.stdout, notANumber.code]).toEqual([2, '', 2]);
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n', stderr: '' });
    expect(JSON.parse(versionJson.stdout)).toEqual({ version: '0.1.0' });
    // Verbosity 0 silences nothing but notices: an error still says what went wrong.
    expect(noUser).toMatchObject({ code: 1, stdout: '', stderr: 'Cannot create the Token: user nobody does not exist\n' });
  });
});

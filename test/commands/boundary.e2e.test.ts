import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshStore, tl } from './cli.js';

const manifest = JSON.parse(readFileSync(new URL('../../oclif.manifest.json', import.meta.url), 'utf8')) as {
  commands: Record<string, { examples?: string[]; flags: Record<string, unknown> }>;
};
const ours = ['user create', 'user passwd', 'user deactivate', 'user activate', 'user list', 'token create', 'token rotate', 'token revoke', 'token list', 'token verify'];

describe('the CLI boundary: settings, backends, help', () => {
  it('names a bad setting in one line, exits non-zero, never prints a stack', async () => {
    const bad = await tl(['token', 'list'], { store: 'foo:bar' });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^TOKENLEDGER_STORE: /);
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const json = await tl(['user', 'list', '--json'], { store: 'foo:bar' });
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'config', exitCode: 2 });
  });

  it('exits 3 when the store cannot be opened', async () => {
    const { dir } = freshStore();
    // A directory can never be made under a regular file.
    writeFileSync(join(dir, 'blocker'), '');
    const blocked = await tl(['user', 'list'], { store: `sqlite:${join(dir, 'blocker', 'x.db')}` });
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toMatch(/^TOKENLEDGER_STORE: cannot open SQLite file/);
    expect(blocked.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('ships a manifest in which every command has examples with long flags and --json', async () => {
    for (const id of ours) {
      const command = manifest.commands[id.replace(' ', ':')];
      expect(command, id).toBeDefined();
      expect(command!.examples?.length, id).toBeGreaterThan(0);
      expect(command!.flags, id).toHaveProperty('json');
      expect(command!.examples!.join(' '), id).not.toMatch(/ -[a-z]\b/);
    }
    const { url: store } = freshStore();
    const help = await tl(['token', 'create', '--help'], { store });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('EXAMPLES');
    expect(help.stdout).toContain('drf_create_token');
  });
});

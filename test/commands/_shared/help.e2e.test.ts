import { describe, expect, it } from 'vitest';
import { freshStore, tl } from '../cli.js';

describe('tokenledger --help', () => {
  it("lists the commands a Django user knows, grouped by app as manage.py --help groups them", async () => {
    const { stdout, code } = await tl(['--help'], { store: freshStore().url });
    expect(code).toBe(0);
    const section = stdout.slice(stdout.indexOf('DJANGO COMMANDS'));
    expect(section.trimEnd().split('\n').slice(1).map((line) => line.trim().split(/\s{2,}/))).toEqual([
      ['[auth]'],
      ['changepassword', 'tokenledger user passwd'],
      ['createsuperuser', 'tokenledger user create'],
      ['[authtoken]'],
      ['drf_create_token', 'tokenledger drf_create_token (token create)'],
      ['[rest_framework]'],
      ['generateschema', 'tokenledger generateschema'],
    ]);
    // The usual root help is still all there.
    for (const heading of ['USAGE', 'TOPICS', 'COMMANDS']) expect(stdout).toContain(heading);
  });

  it('keeps a command’s own help as it was', async () => {
    const { stdout } = await tl(['token', 'create', '--help'], { store: freshStore().url });
    expect(stdout).not.toContain('DJANGO COMMANDS');
    expect(stdout).toContain('DJANGO FLAGS');
  });
});

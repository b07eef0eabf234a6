import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import type { DjangoName } from '../_shared/help.js';

export default class TokenCreate extends BaseCommand {
  static override summary = 'Issue a token for a user (DRF: drf_create_token).';
  static override description =
    'Prints the key once, on stdout: only its SHA-256 digest is stored. Refuses when the user already ' +
    'has a token of that name, unless --reset replaces it (the old key is dead when the command returns).';
  static override aliases = ['drf_create_token'];
  static django: DjangoName = { app: 'authtoken', name: 'drf_create_token' };
  static override examples = [
    '<%= config.bin %> token create alice',
    '<%= config.bin %> token create alice --reset',
    '<%= config.bin %> token create alice --name ci --expires-in 90d --scope tokens:read --description "CI pipeline"',
    '<%= config.bin %> token create alice --format drf',
    '<%= config.bin %> drf_create_token --reset alice',
    '<%= config.bin %> drf_create_token --verbosity 0 --no-color alice',
  ];

  static override args = {
    username: Args.string({ required: true, description: 'the user the token is for' }),
  };

  static override flags = {
    reset: Flags.boolean({ char: 'r', description: 'replace the existing token of that name with a new key' }),
    name: Flags.string({ description: 'token name (Knox-style named tokens)', default: 'default' }),
    'expires-in': Flags.string({ description: 'lifetime such as 90d, 12h, 10m, 30s (0: never expires)' }),
    scope: Flags.string({ description: 'a scope the token carries (repeatable)', multiple: true }),
    format: Flags.string({ description: 'key format', options: ['tl', 'drf'], default: 'tl' }),
    description: Flags.string({ description: 'what the token is for' }),
    // Django's options, so that `manage.py drf_create_token` habits carry over (docs/cli.md).
    verbosity: Flags.integer({
      char: 'v',
      min: 0,
      max: 3,
      default: 1,
      helpGroup: 'DJANGO',
      description: "Django's verbosity (0 to 3). The key line is the command's result, printed at every level, as DRF prints it",
    }),
    'no-color': Flags.boolean({ helpGroup: 'DJANGO', description: 'no colours in the output (the result line never has any)' }),
    version: Flags.boolean({ helpGroup: 'DJANGO', description: "print tokenledger's version and exit" }),
  };

  async run() {
    if (this.asksVersion()) return this.showVersion();
    const { args, flags } = await this.parse(TokenCreate);
    const ledger = await this.ledger(flags);
    return this.issuing(
      args.username,
      ledger.issueToken({
        username: args.username,
        name: flags.name,
        reset: flags.reset,
        expiresIn: flags['expires-in'] ?? null,
        scopes: flags.scope ?? [],
        format: flags.format as 'tl' | 'drf',
        description: flags.description ?? null,
      }),
    );
  }
}

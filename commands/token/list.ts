import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import { when } from '../_shared/display.js';
import { timeFlag } from '../_shared/flags.js';

export default class TokenList extends BaseCommand {
  static override summary = 'List live tokens (never a key: only its first 8 characters).';
  static override examples = [
    '<%= config.bin %> token list',
    '<%= config.bin %> token list alice',
    '<%= config.bin %> token list alice --at 2025-01-31T12:00:00Z --json',
  ];

  static override args = {
    username: Args.string({ required: false, description: 'only the tokens of this user' }),
  };

  static override flags = {
    at: timeFlag({ description: 'as the log stood at this time (ISO 8601)' }),
  };

  async run() {
    const { args, flags } = await this.parse(TokenList);
    const ledger = await this.ledger(flags);
    const tokens = await ledger.listTokens({ username: args.username, at: flags.at?.toISOString() });
    this.table(
      tokens,
      [
        ['USER', (t) => t.username],
        ['NAME', (t) => t.name],
        ['PREFIX', (t) => t.keyPrefix],
        ['CREATED', (t) => when(t.createdAt)],
        ['EXPIRES', (t) => when(t.expiresAt)],
        ['ROTATED', (t) => when(t.lastRotatedAt)],
        ['SCOPES', (t) => t.scopes.join(',') || '-'],
      ],
      'No tokens.',
    );
    return tokens;
  }
}

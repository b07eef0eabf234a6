import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';

export default class TokenRevoke extends BaseCommand {
  static override summary = 'Revoke one token of a user, or all of them.';
  static override description = 'A revoked key is rejected by every middleware from the moment the command returns.';
  static override examples = [
    '<%= config.bin %> token revoke alice',
    '<%= config.bin %> token revoke alice --name ci --reason "leaked in a build log"',
    '<%= config.bin %> token revoke alice --all --reason "laptop stolen"',
  ];

  static override args = {
    username: Args.string({ required: true, description: 'the owner of the tokens' }),
  };

  static override flags = {
    name: Flags.string({ description: 'token name (default: default)', exclusive: ['all'] }),
    all: Flags.boolean({ description: 'revoke every token of the user', exclusive: ['name'] }),
    reason: Flags.string({ description: 'why, for the audit log' }),
  };

  async run() {
    const { args, flags } = await this.parse(TokenRevoke);
    const ledger = await this.ledger(flags);
    const result = await ledger.revokeToken({ username: args.username, name: flags.name, all: flags.all, reason: flags.reason ?? null });
    this.note(
      result.revoked.length === 0
        ? `User ${args.username} had no token to revoke.`
        : `Revoked ${result.revoked.map((name) => `"${name}"`).join(', ')} of user ${args.username}.`,
    );
    return { username: args.username, ...result };
  }
}

import * as Args from '@oclif/core/args';
import { BaseCommand } from '../_shared/base.js';

export default class UserDeactivate extends BaseCommand {
  static override summary = 'Deactivate a user: every token of theirs answers "User inactive or deleted."';
  static override description = 'Their tokens are kept and work again after `user activate`.';
  static override examples = ['<%= config.bin %> user deactivate alice', '<%= config.bin %> user deactivate alice --json'];

  static override args = {
    username: Args.string({ required: true, description: 'the user' }),
  };

  async run() {
    const { args, flags } = await this.parse(UserDeactivate);
    const ledger = await this.ledger(flags);
    const result = await ledger.deactivateUser(args.username);
    this.note(result.changed ? `User ${args.username} deactivated.` : `User ${args.username} was already deactivated.`);
    return result;
  }
}

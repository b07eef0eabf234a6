import * as Args from '@oclif/core/args';
import { BaseCommand } from '../_shared/base.js';

export default class UserActivate extends BaseCommand {
  static override summary = 'Activate a deactivated user: their live tokens work again.';
  static override description = 'Doing it twice is not an error.';
  static override examples = ['<%= config.bin %> user activate alice', '<%= config.bin %> user activate alice --json'];

  static override args = {
    username: Args.string({ required: true, description: 'the user' }),
  };

  async run() {
    const { args, flags } = await this.parse(UserActivate);
    const ledger = await this.ledger(flags);
    const result = await ledger.activateUser(args.username);
    this.note(result.changed ? `User ${args.username} activated.` : `User ${args.username} was already activated.`);
    return result;
  }
}

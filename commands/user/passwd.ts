import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import type { DjangoName } from '../_shared/help.js';
import { readNewPassword } from '../_shared/input.js';

export default class UserPasswd extends BaseCommand {
  static override summary = "Change a user's password (Django: changepassword).";
  static django: DjangoName = { app: 'auth', name: 'changepassword' };
  static override description =
    'Typed twice at a hidden prompt on a terminal, or read as one line from stdin; never a flag value.';
  static override examples = [
    '<%= config.bin %> user passwd alice',
    'echo "$NEW_PASSWORD" | <%= config.bin %> user passwd alice --password-stdin',
  ];

  static override args = {
    username: Args.string({ required: true, description: 'the user' }),
  };

  static override flags = {
    'password-stdin': Flags.boolean({ description: 'read the password as one line from stdin' }),
  };

  async run() {
    const { args, flags } = await this.parse(UserPasswd);
    const password = await readNewPassword(flags['password-stdin']);
    const ledger = await this.ledger(flags);
    const user = await ledger.setPassword(args.username, password);
    this.note(`Password changed for user ${user.username}.`);
    return user;
  }
}

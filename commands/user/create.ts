import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import type { DjangoName } from '../_shared/help.js';
import { readNewPassword } from '../_shared/input.js';

export default class UserCreate extends BaseCommand {
  static override summary = 'Create a user (Django: createsuperuser).';
  static django: DjangoName = { app: 'auth', name: 'createsuperuser' };
  static override description =
    'The password is typed twice at a hidden prompt on a terminal, or read as one line from stdin ' +
    '(--password-stdin, or whenever stdin is not a terminal); it is never a flag value. ' +
    'Only its argon2id hash is stored.';
  static override examples = [
    '<%= config.bin %> user create alice',
    'echo "$ALICE_PASSWORD" | <%= config.bin %> user create alice --password-stdin',
    '<%= config.bin %> user create admin --staff --superuser',
    '<%= config.bin %> user create ci-bot --no-password',
  ];

  static override args = {
    username: Args.string({ required: true, description: 'letters, digits and @/./+/-/_ (as Django)' }),
  };

  static override flags = {
    staff: Flags.boolean({ description: 'may use the staff-only API' }),
    superuser: Flags.boolean({ description: 'has every permission' }),
    'password-stdin': Flags.boolean({ description: 'read the password as one line from stdin', exclusive: ['no-password'] }),
    'no-password': Flags.boolean({ description: 'create the user without a password (tokens only, no login)', exclusive: ['password-stdin'] }),
  };

  async run() {
    const { args, flags } = await this.parse(UserCreate);
    const password = flags['no-password'] ? null : await readNewPassword(flags['password-stdin']);
    const ledger = await this.ledger(flags);
    const user = await ledger.registerUser({ username: args.username, password, isStaff: flags.staff, isSuperuser: flags.superuser });
    this.note(`User ${user.username} created${password === null ? ' (no password)' : ''}.`);
    return user;
  }
}

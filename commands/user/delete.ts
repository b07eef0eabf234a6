import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import { usageError } from '../_shared/errors.js';

export default class UserDelete extends BaseCommand {
  static override summary = 'Delete a user for good: their tokens stop working at once and their personal data is erased.';
  static override description =
    'Appends UserDeleted and shreds the user\'s keys in the vault, so the username, password hashes, client addresses and ' +
    'token descriptions in their events never read again, in any copy of the log; `audit verify` still passes. The username ' +
    'stays reserved. Asks for the username again on a terminal; --no-input (Django\'s flag) deletes without asking, as scripts ' +
    'must. See docs/privacy.md.';
  static override examples = ['<%= config.bin %> user delete carol', '<%= config.bin %> user delete carol --no-input --json'];

  static override args = {
    username: Args.string({ required: true, description: 'the user' }),
  };

  static override flags = {
    'no-input': Flags.boolean({ aliases: ['noinput'], description: 'delete without asking for confirmation (required when stdin is not a terminal)' }),
  };

  async run() {
    const { args, flags } = await this.parse(UserDelete);
    if (!flags['no-input']) {
      if (!process.stdin.isTTY) throw usageError('Not deleted: confirm with --no-input when stdin is not a terminal (deletion cannot be undone).');
      const { createInterface } = await import('node:readline/promises');
      // The question goes to stderr, so that stdout stays the command's output.
      const terminal = createInterface({ input: process.stdin, output: process.stderr });
      const typed = await terminal.question(`This erases user ${args.username} for good. Type the username to confirm: `).finally(() => terminal.close());
      if (typed.trim() !== args.username) throw usageError('Not deleted: the username typed did not match.');
    }
    const ledger = await this.ledger(flags);
    const result = await ledger.deleteUser(args.username);
    this.note(
      result.deleted
        ? `User ${args.username} deleted: their tokens no longer work and their personal data is erased.`
        : `User ${args.username} was already deleted (its keys are shredded).`,
    );
    return { username: args.username, ...result };
  }
}

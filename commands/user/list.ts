import { BaseCommand } from '../_shared/base.js';
import { when } from '../_shared/display.js';

const yes = (flag: boolean) => (flag ? 'yes' : 'no');

export default class UserList extends BaseCommand {
  static override summary = 'List users with their active/staff flags and token counts (never a password hash).';
  static override examples = ['<%= config.bin %> user list', '<%= config.bin %> user list --json'];

  async run() {
    const { flags } = await this.parse(UserList);
    const ledger = await this.ledger(flags);
    const users = await ledger.listUsers();
    this.table(
      users,
      [
        ['USERNAME', (u) => u.username],
        ['ACTIVE', (u) => yes(u.active)],
        ['STAFF', (u) => yes(u.isStaff)],
        ['SUPERUSER', (u) => yes(u.isSuperuser)],
        ['PASSWORD', (u) => yes(u.hasPassword)],
        ['TOKENS', (u) => String(u.tokens)],
        ['CREATED', (u) => when(u.createdAt)],
      ],
      'No users.',
    );
    return users;
  }
}

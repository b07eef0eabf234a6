import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import { when } from '../_shared/display.js';
import { header, pagingFlags, rows, streamAll, writeOut, type StreamColumn } from '../_shared/listing.js';

const yes = (flag: boolean) => (flag ? 'yes' : 'no');

interface UserRow {
  username: string;
  active: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  hasPassword: boolean;
  tokens: number;
  createdAt: string;
}

const COLUMNS: StreamColumn<UserRow>[] = [
  ['USERNAME', 16, (u) => u.username],
  ['ACTIVE', 6, (u) => yes(u.active)],
  ['STAFF', 5, (u) => yes(u.isStaff)],
  ['SUPERUSER', 9, (u) => yes(u.isSuperuser)],
  ['PASSWORD', 8, (u) => yes(u.hasPassword)],
  ['TOKENS', 6, (u) => String(u.tokens)],
  ['CREATED', 20, (u) => when(u.createdAt)],
];

export default class UserList extends BaseCommand {
  static override summary = 'List users with their active/staff flags and token counts (never a password hash).';
  static override description =
    'Sorted by username, one page at a time (50 rows unless --limit says otherwise); the cursor of the next page is ' +
    'printed on stderr. --all streams every page. Answered from the directory, never by reading the whole log.';
  static override examples = [
    '<%= config.bin %> user list',
    '<%= config.bin %> user list --search ali --staff',
    '<%= config.bin %> user list --limit 100 --cursor <cursor>',
    '<%= config.bin %> user list --all --json > users.json',
  ];

  static override flags = {
    search: Flags.string({ description: 'usernames containing this (case-insensitive)' }),
    prefix: Flags.string({ description: 'usernames starting with this (case-insensitive)' }),
    active: Flags.boolean({ description: 'only active users (--no-active: only inactive ones)', allowNo: true }),
    staff: Flags.boolean({ description: 'only staff (--no-staff: only non-staff)', allowNo: true }),
    ...pagingFlags,
  };

  async run() {
    const { flags } = await this.parse(UserList);
    const ledger = await this.ledger(flags);
    const query = { search: flags.search, prefix: flags.prefix, active: flags.active, staff: flags.staff };
    if (flags.all) {
      await streamAll((cursor) => ledger.listUsers({ ...query, limit: flags.limit ?? 500, cursor }), {
        json: this.jsonEnabled(),
        columns: COLUMNS,
        none: () => this.note('No users.'),
      });
      return undefined;
    }
    const page = await ledger.listUsers({ ...query, limit: flags.limit, cursor: flags.cursor });
    if (this.jsonEnabled()) return page;
    if (page.results.length === 0) this.note('No users.');
    else await writeOut(header(COLUMNS) + rows(page.results, COLUMNS));
    if (page.next) this.note(`More users: --cursor ${page.next}`);
    return page;
  }
}

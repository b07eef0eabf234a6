import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import { when } from '../_shared/display.js';
import { usageError } from '../_shared/errors.js';
import { timeFlag } from '../_shared/flags.js';
import { header, pagingFlags, rows, streamAll, writeOut, type StreamColumn } from '../_shared/listing.js';

interface TokenRow {
  username: string;
  name: string;
  keyPrefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastRotatedAt: string | null;
  scopes: string[];
  status?: string;
}

const COLUMNS: StreamColumn<TokenRow>[] = [
  ['USER', 12, (t) => t.username],
  ['NAME', 10, (t) => t.name],
  ['PREFIX', 8, (t) => t.keyPrefix],
  ['STATUS', 7, (t) => t.status ?? '-'],
  ['CREATED', 20, (t) => when(t.createdAt)],
  ['EXPIRES', 20, (t) => when(t.expiresAt)],
  ['ROTATED', 20, (t) => when(t.lastRotatedAt)],
  ['SCOPES', 0, (t) => t.scopes.join(',') || '-'],
];

const STATUSES = ['current', 'live', 'expiring', 'grace', 'expired', 'revoked', 'any'];

export default class TokenList extends BaseCommand {
  static override summary = 'List tokens (never a key: only its first 8 characters).';
  static override description =
    'Sorted by user, then creation, one page at a time (50 rows unless --limit says otherwise); the cursor of the ' +
    'next page is printed on stderr. --all streams every page. By default every token not revoked (live, in grace ' +
    'or expired); --status picks one kind. Answered from the directory; --at folds only that user\'s stream.';
  static override examples = [
    '<%= config.bin %> token list',
    '<%= config.bin %> token list alice',
    '<%= config.bin %> token list --status expiring --within 7d',
    '<%= config.bin %> token list --scope tokens:read --all --json',
    '<%= config.bin %> token list alice --at 2025-01-31T12:00:00Z --json',
  ];

  static override args = {
    username: Args.string({ required: false, description: 'only the tokens of this user' }),
  };

  static override flags = {
    name: Flags.string({ description: 'only tokens with this name' }),
    prefix: Flags.string({ description: 'only keys starting with this (the 8 characters lists show, or fewer)' }),
    status: Flags.string({ description: 'only tokens in this state (default current: not revoked)', options: STATUSES }),
    within: Flags.string({ description: 'with --status expiring: how far ahead (default 7d)', helpValue: '<duration>' }),
    scope: Flags.string({ description: 'only tokens that carry this scope' }),
    at: timeFlag({ description: "the user's tokens as the log stood at this time (ISO 8601); needs <username>" }),
    ...pagingFlags,
  };

  async run() {
    const { args, flags } = await this.parse(TokenList);
    if (flags.at && !args.username) throw usageError('--at needs a username: time travel folds that one user\'s stream.');
    let withinMs: number | undefined;
    if (flags.within !== undefined) {
      const { parseDuration } = await import('../../src/domain/duration.js');
      const ms = parseDuration(flags.within);
      if (ms === null) throw usageError(`--within: "${flags.within}" is not a duration (use 7d, 12h, 30m)`);
      withinMs = ms;
    }
    const ledger = await this.ledger(flags);
    if (flags.at) {
      const tokens = await ledger.tokensAt(args.username!, flags.at.toISOString());
      if (this.jsonEnabled()) return tokens;
      if (tokens.length === 0) this.note('No tokens.');
      else await writeOut(header(COLUMNS) + rows(tokens, COLUMNS));
      return tokens;
    }
    const query = { user: args.username, name: flags.name, keyPrefix: flags.prefix, status: flags.status as never, withinMs, scope: flags.scope };
    if (flags.all) {
      await streamAll((cursor) => ledger.listTokens({ ...query, limit: flags.limit ?? 500, cursor }), {
        json: this.jsonEnabled(),
        columns: COLUMNS,
        none: () => this.note('No tokens.'),
      });
      return undefined;
    }
    const page = await ledger.listTokens({ ...query, limit: flags.limit, cursor: flags.cursor });
    if (this.jsonEnabled()) return page;
    if (page.results.length === 0) this.note('No tokens.');
    else await writeOut(header(COLUMNS) + rows(page.results, COLUMNS));
    if (page.next) this.note(`More tokens: --cursor ${page.next}`);
    return page;
  }
}

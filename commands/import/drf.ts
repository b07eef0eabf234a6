import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';

export default class ImportDrf extends BaseCommand {
  static override summary = "Import a DRF project's users and keys, so no client needs a new key and no user a new password.";
  static override description =
    'Reads auth_user and authtoken_token from a Django database (sqlite:/path/db.sqlite3 or postgres://…; columns by ' +
    'name) or a `manage.py dumpdata auth.user authtoken.token` file. Each user keeps their Django password hash as it is ' +
    '(re-hashed at their first login); each DRF key becomes the token `drf` of its user, stored as its SHA-256 digest ' +
    'only. Running it again appends nothing for users already imported; a user who exists with other data is a ' +
    'conflict: reported and skipped, unless --overwrite. Each user is appended whole or not at all. See docs/coming-from-drf.md.';
  static override examples = [
    '<%= config.bin %> import drf sqlite:/srv/app/db.sqlite3 --dry-run',
    '<%= config.bin %> import drf postgres://app@db.internal/app',
    '<%= config.bin %> import drf dump.json --json',
  ];

  static override args = {
    source: Args.string({ required: true, description: 'sqlite:<path>, postgres://…, or a dumpdata JSON file' }),
  };

  static override flags = {
    'user-table': Flags.string({ description: "the user model's table, when it is not auth_user" }),
    'dry-run': Flags.boolean({ description: 'print what would happen; append nothing' }),
    overwrite: Flags.boolean({ description: "bring users who exist with other data to DRF's data, rather than skip them" }),
  };

  async run() {
    const { args, flags } = await this.parse(ImportDrf);
    const { readDrf } = await import('../../src/import/index.js');
    const data = await readDrf(args.source, { userTable: flags['user-table'] });
    const ledger = await this.ledger(flags);
    const { progressBar } = await import('./_progress.js');
    const bar = await progressBar(data.users.length >= 1_000 && !this.jsonEnabled());
    let summary;
    try {
      summary = await ledger.importDrf(data, { dryRun: flags['dry-run'], overwrite: flags.overwrite, onProgress: bar.update });
    } finally {
      bar.done();
    }
    const { describeImport } = await import('./_summary.js');
    for (const line of describeImport(summary)) this.out(line);
    return summary;
  }
}

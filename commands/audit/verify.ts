import { Flags } from '@oclif/core';
import { BaseCommand } from '../_shared/base.js';
import { EXIT, ExitStatus } from '../_shared/errors.js';

export default class AuditVerify extends BaseCommand {
  static override summary = "Check the log's integrity: every event's hash chain, revisions and positions.";
  static override description =
    'Exit 0 with a one-line summary (events checked, streams, head) when the log is intact; exit 1 naming the ' +
    'stream, revision, position and kind of damage otherwise (data edited, event missing, events reordered, chain ' +
    'broken). Write the printed head down elsewhere and pass it to --expect-head later: a log that was cut back ' +
    'or rewritten no longer reaches it (a log that only grew since still does).';
  static override examples = [
    '<%= config.bin %> audit verify',
    '<%= config.bin %> audit verify --expect-head 1234:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    '<%= config.bin %> audit verify --json',
  ];

  static override flags = {
    'expect-head': Flags.string({ description: 'a head printed by an earlier run (<position>:<sha256>) that the log must still contain', helpValue: '<head>' }),
  };

  async run() {
    const { flags } = await this.parse(AuditVerify);
    const { verifyLog } = await import('../../src/app/audit/verify.js');
    const ledger = await this.ledger(flags);
    const result = await verifyLog(ledger.store, { expectHead: flags['expect-head'] });
    const counted = `${result.events} events in ${result.streams} streams checked, head ${result.head}`;
    if (result.ok) {
      const grown = result.expectedHead && result.expectedHead.position !== null && result.expectedHead.position < result.headPosition ? ' (recorded head found; the log grew since)' : '';
      this.out(`Log intact: ${counted}${grown}`);
      return result;
    }
    for (const damage of result.damage) this.out(damage.message);
    const more = result.damageCount > result.damage.length ? ` (${result.damageCount - result.damage.length} more not shown)` : '';
    throw new ExitStatus(EXIT.refused, result, `Log damaged: ${result.damageCount} problem(s)${more}; ${counted}`);
  }
}

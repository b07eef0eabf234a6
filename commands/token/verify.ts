import { BaseCommand } from '../_shared/base.js';
import { EXIT, ExitStatus } from '../_shared/errors.js';
import { timeFlag } from '../_shared/flags.js';
import { readKey } from '../_shared/input.js';

export default class TokenVerify extends BaseCommand {
  static override summary = 'Check a key read from stdin: valid now (or at --at), and why.';
  static override description =
    'Exit 0 when the key is valid, 1 when it is not (unknown, revoked, expired, user inactive). ' +
    'The key is read from stdin, never from an argument, so it stays out of shell history.';
  static override examples = [
    'printenv API_TOKEN | <%= config.bin %> token verify',
    'printenv API_TOKEN | <%= config.bin %> token verify --at 2025-01-31T12:00:00Z --json',
  ];

  static override flags = {
    at: timeFlag({ description: 'check as of this time (ISO 8601) instead of now' }),
  };

  async run() {
    const { flags } = await this.parse(TokenVerify);
    const key = await readKey();
    const ledger = await this.ledger(flags);
    const verdict = await ledger.verifyKey(key, flags.at);
    if (verdict.outcome !== 'valid') throw new ExitStatus(EXIT.refused, verdict, verdict.reason);
    this.out(verdict.reason);
    return verdict;
  }
}

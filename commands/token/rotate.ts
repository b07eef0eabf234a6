import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from '../_shared/base.js';
import { when } from '../_shared/display.js';

export default class TokenRotate extends BaseCommand {
  static override summary = 'Give a token a new secret; name, scopes and expiry stay.';
  static override description =
    'Prints the new key once, on stdout. Without --grace the old key is dead when the command returns; ' +
    "with --grace it stays valid until then, never past the token's own expiry.";
  static override examples = [
    '<%= config.bin %> token rotate alice',
    '<%= config.bin %> token rotate alice --name ci --grace 10m',
  ];

  static override args = {
    username: Args.string({ required: true, description: 'the owner of the token' }),
  };

  static override flags = {
    name: Flags.string({ description: 'token name', default: 'default' }),
    grace: Flags.string({ description: 'how long the old key stays valid, such as 10m or 1h (default: not at all)' }),
  };

  async run() {
    const { args, flags } = await this.parse(TokenRotate);
    const ledger = await this.ledger(flags);
    const rotated = await this.issuing(args.username, ledger.rotateToken({ username: args.username, name: flags.name, grace: flags.grace ?? null }));
    this.note(
      rotated.token.graceUntil === null
        ? `The previous key of token "${flags.name}" no longer works.`
        : `The previous key of token "${flags.name}" works until ${when(rotated.token.graceUntil)}.`,
    );
    return rotated;
  }
}

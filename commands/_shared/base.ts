import { Command } from '@oclif/core/command';
import { ExitError } from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import { stderr } from '@oclif/core/ux';
import { KeyIssuedBehindError } from '../../src/app/errors.js';
import type { Ledger } from '../../src/app/ledger.js';
import type { Settings } from '../../src/config.js';
import { table, type Column } from './display.js';
import { describeFailure } from './errors.js';

/** The settings every command accepts as flags (SPEC §1: flags, then environment, then defaults). */
export interface GlobalFlags {
  store?: string | undefined;
  'redis-url'?: string | undefined;
  directory?: string | undefined;
  vault?: string | undefined;
}

/**
 * What every tokenledger command shares: `--json`, the global settings flags, a ledger opened
 * on first use and closed at the end, stdout/stderr discipline, and the one error mapper.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    store: Flags.string({
      helpGroup: 'GLOBAL',
      description: 'event store URL (default: $TOKENLEDGER_STORE, else sqlite:./data/tokenledger.db)',
    }),
    'redis-url': Flags.string({
      helpGroup: 'GLOBAL',
      description: 'Redis URL of the projection (default: $TOKENLEDGER_REDIS_URL or $REDIS_URL, else in memory)',
    }),
    directory: Flags.string({
      helpGroup: 'GLOBAL',
      description: 'where the directory (lists, searches) lives: sqlite:<path> or postgres://… (default: $TOKENLEDGER_DIRECTORY, else beside the log)',
    }),
    vault: Flags.string({
      helpGroup: 'GLOBAL',
      description: 'key vault of erasure: sqlite:<path> or postgres://… (default: $TOKENLEDGER_VAULT, else beside the log; docs/privacy.md)',
    }),
  };

  private opened: Promise<Ledger> | undefined;

  /**
   * The settings of this run: the global flags (and `more`, a command's own setting flags) over
   * the environment over the defaults. Config is imported lazily, so `--help` stays fast.
   */
  protected async settings(flags: GlobalFlags, more: { host?: string | undefined; port?: number | undefined } = {}): Promise<Settings> {
    const { loadSettings } = await import('../../src/config.js');
    const given = { store: flags.store, redisUrl: flags['redis-url'], directory: flags.directory, vault: flags.vault, ...more };
    return loadSettings(Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)));
  }

  /**
   * The ledger the flags and environment describe. Imported and opened lazily, so `--help`
   * and usage errors never load the store driver, zod or the domain.
   */
  protected ledger(flags: GlobalFlags): Promise<Ledger> {
    this.opened ??= (async () => {
      const [settings, { openLedger }] = await Promise.all([this.settings(flags), import('../../src/app/ledger.js')]);
      return openLedger({ settings });
    })();
    return this.opened;
  }

  /** Whether the command line asks for `--version` (before a `--`, after which words are arguments). */
  protected asksVersion(): boolean {
    const end = this.argv.indexOf('--');
    return this.argv.slice(0, end === -1 ? undefined : end).includes('--version');
  }

  /**
   * Django's `--version`: the version on stdout, answered before the arguments are checked (as
   * argparse does), so it works without a username.
   */
  protected async showVersion(): Promise<{ version: string }> {
    const asked = this.argv.filter((word) => word === '--version' || word === '--json');
    await this.parse({ flags: { version: Flags.boolean(), json: Flags.boolean() } }, asked);
    this.out(this.config.version);
    return { version: this.config.version };
  }

  /** A result line on stdout (silent under --json, where the returned value is the output). */
  protected out(line: string): void {
    this.log(line);
  }

  /**
   * Prints a new key: `Generated token <key> for user <username>` on stdout, DRF's line. Also when
   * the key is in the log but the projection could not confirm it (exit 3 follows): the key exists
   * nowhere else, so it is shown either way.
   */
  protected async issuing<T extends { key: string }>(username: string, issuing: Promise<T>): Promise<T> {
    const show = (key: string) => this.out(`Generated token ${key} for user ${username}`);
    let issued: T;
    try {
      issued = await issuing;
    } catch (error) {
      if (error instanceof KeyIssuedBehindError) show(error.issued.key);
      throw error;
    }
    show(issued.key);
    return issued;
  }

  /** Rows as a table on stdout, or `none` on stderr when there are no rows. */
  protected table<T>(rows: T[], columns: Column<T>[], none: string): void {
    if (rows.length === 0) this.note(none);
    else this.out(table(rows, columns));
  }

  /** A human message on stderr (silent under --json). */
  protected note(line: string): void {
    this.logToStderr(line);
  }

  protected override async catch(error: Error): Promise<never> {
    const failure = describeFailure(error);
    if (this.jsonEnabled()) this.logJson(failure.json);
    if (failure.message) stderr(failure.message);
    // ExitError is oclif's quiet exit: it prints nothing and ends with our code.
    throw new ExitError(failure.exitCode);
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    if (this.opened) await this.opened.then((ledger) => ledger.close()).catch(() => undefined);
    await super.finally(error);
  }
}

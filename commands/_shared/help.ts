import { Help } from '@oclif/core/help';

/** Where a command sits in Django's `manage.py --help`: the app that provides it and the name it has there. */
export interface DjangoName {
  app: string;
  name: string;
}

/**
 * tokenledger's help, plus one section at the root: the commands a Django / DRF user knows, by
 * their Django names, grouped by app as `manage.py --help` groups them, each with the tokenledger
 * command that does it. A command joins the list by declaring `static django = { app, name }`.
 */
export default class TokenledgerHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    const rows: [app: string, name: string, ours: string][] = [];
    for (const command of this.config.commands) {
      const django = (command as { django?: DjangoName }).django;
      // An alias is listed as a command of its own: name each command once, by its own id.
      if (!django || command.aliases.includes(command.id)) continue;
      const id = command.id.replaceAll(':', ' ');
      rows.push([django.app, django.name, command.aliases.includes(django.name) ? `${django.name} (${id})` : id]);
    }
    if (rows.length === 0) return;
    rows.sort(([a, x], [b, y]) => a.localeCompare(b) || x.localeCompare(y));
    const width = Math.max(...rows.map(([, name]) => name.length));
    const lines: string[] = [];
    for (const [i, [app, name, ours]] of rows.entries()) {
      if (i === 0 || rows[i - 1]![0] !== app) lines.push(`[${app}]`);
      lines.push(`  ${name.padEnd(width)}  ${this.config.bin} ${ours}`);
    }
    this.log(this.section('DJANGO COMMANDS (grouped as manage.py --help groups them)', lines.join('\n')));
    this.log('');
  }
}

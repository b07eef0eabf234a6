import { Flags } from '@oclif/core';
import { BaseCommand } from '../_shared/base.js';
import { interruption, jsonLines, tableHeader, tableRows, writeOut } from './_print.js';

export default class Audit extends BaseCommand {
  static override summary = 'Show the history: when, what, who, through what and from where.';
  static override description =
    'Events in log order, filtered. --limit N shows the N most recent matching events. --format jsonl streams ' +
    'one event per line in constant memory (for a SIEM); --json prints one document. --follow keeps printing new ' +
    'events, appended by any process, until Ctrl-C (it starts with the last 10 unless --limit or --since says otherwise). ' +
    'Digests are shown as their first 12 hex characters and password hashes as "[redacted]".';
  static override examples = [
    '<%= config.bin %> audit --user alice --since 7d',
    '<%= config.bin %> audit --token default --type TokenRotated --type TokenRevoked --json',
    '<%= config.bin %> audit --since 2025-01-31T00:00:00Z --until 2025-02-01T00:00:00Z --format jsonl > audit.jsonl',
    '<%= config.bin %> audit --follow',
  ];

  static override flags = {
    user: Flags.string({ description: 'only the events of this user' }),
    token: Flags.string({ description: 'only the events of tokens with this name' }),
    type: Flags.string({ description: 'only events of this type (repeatable), e.g. TokenIssued', multiple: true }),
    since: Flags.string({ description: 'from this time on: ISO 8601, or a duration ago (1h, 7d)', helpValue: '<time>' }),
    until: Flags.string({ description: 'up to this time: ISO 8601, or a duration ago', helpValue: '<time>' }),
    limit: Flags.integer({ description: 'only the N most recent matching events', min: 0 }),
    follow: Flags.boolean({ char: 'f', description: 'keep printing new events until interrupted', exclusive: ['json'] }),
    format: Flags.string({ description: 'output format', options: ['table', 'jsonl'], default: 'table', exclusive: ['json'] }),
  };

  async run() {
    const { flags } = await this.parse(Audit);
    const { auditList, auditPages, auditQuery, followAudit } = await import('../../src/app/audit/history.js');
    const ledger = await this.ledger(flags);
    // Like `tail -f`: follow starts with the last 10 events, unless --limit or --since says where.
    const limit = flags.limit ?? (flags.follow && flags.since === undefined ? 10 : undefined);
    const filter = auditQuery({ ...flags, limit }, ledger.deps.clock());
    // The user's own stream (or the streams of the token's owners), not the whole log.
    const query = { ...filter, streams: await ledger.auditStreams(filter), newest: true };
    if (this.jsonEnabled()) return auditList(ledger.store, query);
    const { signal, release } = interruption();
    try {
      const pages = flags.follow ? followAudit(ledger.store, query, { signal }) : auditPages(ledger.store, query);
      const render = flags.format === 'jsonl' ? jsonLines : tableRows;
      if (flags.format === 'table') await writeOut(tableHeader(), signal);
      for await (const page of pages) {
        if (signal.aborted) break;
        await writeOut(render(page), signal);
      }
    } finally {
      release();
    }
  }
}

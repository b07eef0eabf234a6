import { once } from 'node:events';
import type { AuditEntry } from '../../src/app/audit/entry.js';
import { when } from '../_shared/display.js';

const text = (value: unknown) => (value === null || value === undefined || value === '' ? '-' : String(value));

// Fixed widths rather than the shared `table()`: the audit table is printed page by page and
// live (--follow), so it cannot measure every row first. A longer cell pushes, it is never cut.
const COLUMNS: [header: string, width: number, cell: (e: AuditEntry) => string][] = [
  ['TIME', 20, (e) => when(typeof e.metadata.at === 'string' ? e.metadata.at : null)],
  ['EVENT', 16, (e) => e.type],
  ['USER', 12, (e) => text(e.user)],
  ['TOKEN', 12, (e) => text(e.token)],
  ['ACTOR', 10, (e) => text(e.metadata.actor)],
  ['CHANNEL', 7, (e) => text(e.metadata.channel)],
  ['FROM', 15, (e) => text(e.metadata.source)],
  ['CORRELATION ID', 0, (e) => text(e.metadata.correlationId)],
];

function line(cells: string[]): string {
  return cells.map((cell, i) => cell.padEnd(COLUMNS[i]![1])).join('  ').trimEnd();
}

export function tableHeader(): string {
  return `${line(COLUMNS.map(([header]) => header))}\n`;
}

export function tableRows(entries: AuditEntry[]): string {
  return entries.map((entry) => `${line(COLUMNS.map(([, , cell]) => cell(entry)))}\n`).join('');
}

/** One JSON object per line: what a SIEM ingests. */
export function jsonLines(entries: AuditEntry[]): string {
  return entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
}

/**
 * Writes to stdout and waits for it to drain when its buffer is full, so a slow reader (a pipe
 * into a SIEM shipper) holds the producer back instead of letting output pile up in memory.
 */
export async function writeOut(chunk: string, signal: AbortSignal): Promise<void> {
  if (chunk === '' || signal.aborted || process.stdout.write(chunk)) return;
  await once(process.stdout, 'drain', { signal }).catch(() => undefined);
}

/**
 * Aborts on SIGINT/SIGTERM (follow mode ends cleanly, exit 0) or when stdout goes away (`| head`).
 * `release()` removes the handlers again.
 */
export function interruption(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.on('error', onError);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', onError);
    },
  };
}

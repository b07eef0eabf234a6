import { once } from 'node:events';
import * as Flags from '@oclif/core/flags';

/** A page of a list as the ledger answers it (src/directory's Page). */
export interface ListPage<T> {
  results: T[];
  next: string | null;
  previous: string | null;
}

/** The paging flags every list command takes. */
export const pagingFlags = {
  limit: Flags.integer({ description: 'rows per page (1 to 500, default 50)', min: 1, max: 500 }),
  cursor: Flags.string({ description: 'the page after (or before) a previous page: the cursor it printed', helpValue: '<cursor>' }),
  all: Flags.boolean({ description: 'every page, streamed in constant memory (pages of --limit, default 500)', exclusive: ['cursor'] }),
};

/** One column of a streamed table: header, minimum width, cell. A longer cell pushes, it is never cut. */
export type StreamColumn<T> = [header: string, width: number, cell: (row: T) => string];

function line(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
}

export function header<T>(columns: StreamColumn<T>[]): string {
  return `${line(columns.map(([h]) => h), columns.map(([h, w]) => Math.max(h.length, w)))}\n`;
}

export function rows<T>(items: T[], columns: StreamColumn<T>[]): string {
  const widths = columns.map(([h, w]) => Math.max(h.length, w));
  return items.map((item) => `${line(columns.map(([, , cell]) => cell(item)), widths)}\n`).join('');
}

/** Writes to stdout, waiting for it to drain when its buffer is full (a slow pipe holds us back). */
export async function writeOut(chunk: string): Promise<void> {
  if (chunk === '' || process.stdout.write(chunk)) return;
  await once(process.stdout, 'drain');
}

/**
 * Every page, one at a time: the next page is read only after the previous one is written, so
 * memory stays one page however long the list. JSON comes out as one array, written as it goes.
 */
export async function streamAll<T>(
  fetch: (cursor: string | undefined) => Promise<ListPage<T>>,
  options: { json: boolean; columns: StreamColumn<T>[]; none: () => void },
): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  if (options.json) await writeOut('[');
  for (;;) {
    const page = await fetch(cursor);
    if (options.json) {
      await writeOut(page.results.map((row) => `${count++ > 0 ? ',' : ''}${JSON.stringify(row)}`).join(''));
    } else {
      if (count === 0 && page.results.length > 0) await writeOut(header(options.columns));
      count += page.results.length;
      await writeOut(rows(page.results, options.columns));
    }
    if (page.next === null) break;
    cursor = page.next;
  }
  if (options.json) await writeOut(']\n');
  else if (count === 0) options.none();
  return count;
}

/** One column of a table: its header and how a row shows in it. */
export type Column<T> = [header: string, cell: (row: T) => string];

/** Rows as a plain, aligned text table (the one display function every list command uses). */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => cell(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** A time for people: ISO without milliseconds, or "-" when there is none. */
export function when(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d{3}Z$/, 'Z');
}

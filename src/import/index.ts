import { readDumpdata } from './dumpdata.js';
import { readPostgres } from './postgres.js';
import { describeSource, parseSource, type DrfData, type ReadOptions } from './source.js';
import { readSqlite } from './sqlite.js';

export { describeSource, parseSource, type DrfData, type DrfUser, type ReadOptions, type SourceSpec } from './source.js';

/** Reads every user (and their DRF key's digest) of a DRF project: a SQLite or PostgreSQL database, or a dumpdata file. */
export async function readDrf(text: string, options: ReadOptions = {}): Promise<DrfData> {
  const spec = parseSource(text);
  const source = describeSource(spec);
  if (spec.kind === 'sqlite') return readSqlite(spec.path, source, options);
  if (spec.kind === 'postgres') return readPostgres(spec.url, source, options);
  return readDumpdata(spec.path, source);
}

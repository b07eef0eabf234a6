import pg from 'pg';
import { ConfigError } from '../domain/index.js';
import { checkColumns } from './sqlite.js';
import { checkTableName, tokenOf, userOf, type DrfData, type DrfUser, type ReadOptions } from './source.js';

const firstLine = (error: unknown) => String((error as Error).message ?? error).split('\n', 1)[0];

/** Reads a Django PostgreSQL database (its default schema) in one read-only transaction. */
export async function readPostgres(url: string, source: string, options: ReadOptions = {}): Promise<DrfData> {
  const table = checkTableName(options.userTable ?? 'auth_user');
  const client = new pg.Client({ connectionString: url });
  // An idle client's socket error would otherwise be an unhandled 'error' event.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new ConfigError(`source: cannot connect to ${source}: ${firstLine(error)}`);
  }
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const exists = async (name: string) => (await client.query('SELECT to_regclass($1) IS NOT NULL AS found', [`"${name}"`])).rows[0].found as boolean;
    if (!(await exists(table))) throw new ConfigError(`source: ${source} has no table ${table} (a custom user model? name its table with --user-table)`);
    const tokens = await exists('authtoken_token');
    const sql = tokens
      ? `SELECT u.*, t."key" AS "__key", t."created" AS "__created" FROM "${table}" u LEFT JOIN "authtoken_token" t ON t."user_id" = u."id" ORDER BY u."id"`
      : `SELECT u.* FROM "${table}" u ORDER BY u."id"`;
    const users: DrfUser[] = [];
    let rows: Record<string, unknown>[];
    try {
      rows = (await client.query(sql)).rows;
    } catch (error) {
      throw new ConfigError(`source: cannot read ${table} in ${source}: ${firstLine(error)}`);
    }
    for (const row of rows) {
      checkColumns(row, table, source);
      users.push(userOf(row, tokens ? tokenOf(row.__key, row.__created) : null));
    }
    rows.length = 0;
    const orphanTokens = tokens
      ? Number((await client.query(`SELECT COUNT(*) AS n FROM "authtoken_token" WHERE "user_id" NOT IN (SELECT "id" FROM "${table}")`)).rows[0].n)
      : 0;
    await client.query('COMMIT');
    return { source, users, orphanTokens };
  } finally {
    await client.end().catch(() => {});
  }
}

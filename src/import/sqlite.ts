import Database from 'better-sqlite3';
import { ConfigError } from '../domain/index.js';
import { checkTableName, tokenOf, userOf, type DrfData, type DrfUser, type ReadOptions } from './source.js';

const firstLine = (error: unknown) => String((error as Error).message ?? error).split('\n', 1)[0];

/** Reads a Django SQLite database, read-only: the user table joined with `authtoken_token`. */
export function readSqlite(path: string, source: string, options: ReadOptions = {}): DrfData {
  const table = checkTableName(options.userTable ?? 'auth_user');
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ConfigError(`source: cannot open SQLite database ${path}: ${firstLine(error)}`);
  }
  try {
    const exists = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    if (!exists(table)) throw new ConfigError(`source: ${source} has no table ${table} (a custom user model? name its table with --user-table)`);
    const tokens = exists('authtoken_token');
    const sql = tokens
      ? `SELECT u.*, t."key" AS "__key", t."created" AS "__created" FROM "${table}" u LEFT JOIN "authtoken_token" t ON t."user_id" = u."id" ORDER BY u."id"`
      : `SELECT u.* FROM "${table}" u ORDER BY u."id"`;
    const users: DrfUser[] = [];
    let statement: Database.Statement;
    try {
      statement = db.prepare(sql);
    } catch (error) {
      throw new ConfigError(`source: cannot read ${table} in ${source}: ${firstLine(error)}`);
    }
    for (const row of statement.iterate() as Iterable<Record<string, unknown>>) {
      checkColumns(row, table, source);
      users.push(userOf(row, tokens ? tokenOf(row.__key, row.__created) : null));
    }
    const orphanTokens = tokens
      ? (db.prepare(`SELECT COUNT(*) AS n FROM "authtoken_token" WHERE "user_id" NOT IN (SELECT "id" FROM "${table}")`).get() as { n: number }).n
      : 0;
    return { source, users, orphanTokens };
  } finally {
    db.close();
  }
}

/** Columns are read by name: a user table without one of them is not Django's user model. */
export function checkColumns(row: Record<string, unknown>, table: string, source: string): void {
  for (const column of ['username', 'password', 'is_active', 'is_staff', 'is_superuser', 'date_joined']) {
    if (!(column in row)) throw new ConfigError(`source: table ${table} in ${source} has no column ${column}`);
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the PostgreSQL tests use; each test run works in schemas of its own and drops them. */
export const PG_BASE_URL = process.env.TOKENLEDGER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Fresh schema names for one test file, and the cleanup that drops every one of them. */
export function pgSchemas(label: string) {
  const created: string[] = [];
  return {
    /** A TOKENLEDGER_STORE URL on a schema nobody else uses (the adapter creates it). */
    url(): string {
      const schema = `tl_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
      created.push(schema);
      return `${PG_BASE_URL}?schema=${schema}`;
    },
    async dropAll(): Promise<void> {
      const client = new pg.Client({ connectionString: PG_BASE_URL });
      await client.connect();
      try {
        for (const schema of created) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A plain connection to the test database, for poking at the store from outside. */
export async function pgClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_BASE_URL });
  await client.connect();
  return client;
}

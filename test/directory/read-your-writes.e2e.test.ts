import { afterAll, describe, expect, it } from 'vitest';
import { tl, freshStore, keyOf } from '../commands/cli.js';
import { call, dropPrefix, REDIS_URL, startService, type Service } from '../http/harness.js';
import { pgClient, pgSchemas } from '../eventstore/postgres-fixture.js';
import { randomUUID } from 'node:crypto';

/**
 * Read-your-writes, end to end: `token create`, `token revoke` and `user deactivate` run as CLI
 * processes; the moment each exits, `token list` / `user list` (new CLI processes) and a running
 * `serve` (`GET /api/tokens/`, `GET /api/users/`) already show the change. On SQLite with the
 * memory projection, SQLite with Redis, and PostgreSQL with Redis.
 */
const schemas = pgSchemas('dirryw');
const pgStores: string[] = [];
afterAll(async () => {
  await schemas.dropAll();
  const client = await pgClient();
  try {
    for (const url of pgStores) await client.query(`DROP SCHEMA IF EXISTS "${new URL(url).searchParams.get('schema')}_directory" CASCADE`);
  } finally {
    await client.end();
  }
});

type Setup = { store: string; redis: boolean };
const setups: [string, () => Setup][] = [
  ['SQLite + memory', () => ({ store: freshStore().url, redis: false })],
  ['SQLite + Redis', () => ({ store: freshStore().url, redis: true })],
  [
    'PostgreSQL + Redis',
    () => {
      const store = schemas.url();
      pgStores.push(store);
      return { store, redis: true };
    },
  ],
];

describe.concurrent('a CLI write shows at once in CLI lists and in the staff API', () => {
  it.each(setups)('%s', async (_name, setup) => {
    const { store, redis } = setup();
    const prefix = `tltest:dirryw:${randomUUID()}:`;
    const svc: Service = await startService({ store, ...(redis ? { redisUrl: REDIS_URL, redisPrefix: prefix } : {}) });
    const cliEnv: Record<string, string> = redis ? { TOKENLEDGER_REDIS_PREFIX: prefix } : {};
    const redisFlag = redis ? ['--redis-url', REDIS_URL] : [];
    const cli = (args: string[]) => tl([...args, ...redisFlag], { store, env: cliEnv });
    try {
      await svc.ledger.registerUser({ username: 'admin', password: null, isStaff: true });
      await svc.ledger.registerUser({ username: 'alice', password: null });
      const admin = (await svc.ledger.issueToken({ username: 'admin' })).key;
      const api = async (path: string) => (await call(`${svc.url}${path}`, { token: admin })).json;
      const cliTokens = async () => JSON.parse((await cli(['token', 'list', 'alice', '--json'])).stdout).results.map((t: { name: string }) => t.name);
      const apiTokens = async () => (await api('/api/tokens/?user=alice')).results.map((t: { name: string }) => t.name);

      const created = await cli(['token', 'create', 'alice', '--name', 'ci']);
      expect(created.code).toBe(0);
      keyOf(created);
      expect(await Promise.all([cliTokens(), apiTokens()])).toEqual([['ci'], ['ci']]);

      expect((await cli(['token', 'revoke', 'alice', '--name', 'ci'])).code).toBe(0);
      expect(await Promise.all([cliTokens(), apiTokens()])).toEqual([[], []]);
      expect((await api('/api/tokens/?user=alice&status=revoked')).results.map((t: { name: string }) => t.name)).toEqual(['ci']);

      expect((await cli(['user', 'deactivate', 'alice'])).code).toBe(0);
      const [listed, served] = await Promise.all([cli(['user', 'list', '--search', 'ALI', '--json']), api('/api/users/?search=ali')]);
      expect(JSON.parse(listed.stdout).results.map((u: { username: string; active: boolean }) => [u.username, u.active])).toEqual([['alice', false]]);
      expect(served.results.map((u: { username: string; active: boolean }) => [u.username, u.active])).toEqual([['alice', false]]);
    } finally {
      await svc.close();
      if (redis) await dropPrefix(prefix);
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDirectoryStore } from '../../src/directory/open.js';
import type { DirectoryStore, DirectoryToken, TokenQuery } from '../../src/directory/port.js';
import { DirectoryProjector } from '../../src/directory/projector.js';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import { pgClient, pgSchemas } from '../eventstore/postgres-fixture.js';
import { tempLedger } from '../app/ledger-fixture.js';

/**
 * The directory's version-2 schema (side tables and indexes that serve the list filters): a
 * version-1 directory is migrated in place on open, side tables filled from its rows, and answers
 * as a directory made at version 2 does; SQLite's two plans for the time statuses (a range index
 * then a sort, when few tokens are in the status at `now`; the list order, when many are) answer
 * the same rows.
 */
const schemas = pgSchemas('dirplan');
afterAll(() => schemas.dropAll());

const HOUR = 3_600_000;

/** A small history: users with searchable names, scoped, expiring, rotated and revoked tokens. */
async function history(fixture: ReturnType<typeof tempLedger>) {
  const { ledger, advance } = fixture;
  for (const username of ['Alice', 'alicia', 'bob', 'Bobby_x', 'carol']) {
    await ledger.registerUser({ username, password: null, isStaff: username.startsWith('b') });
    await ledger.issueToken({ username, scopes: ['tokens:read', 'users:write'] });
    await ledger.issueToken({ username, name: 'ci', expiresIn: '1h', scopes: ['tokens:read'] });
    await ledger.issueToken({ username, name: 'deploy', expiresIn: '30d' });
    advance(60_000);
  }
  await ledger.rotateToken({ username: 'bob', grace: '10m' });
  await ledger.revokeToken({ username: 'carol', name: 'ci', reason: null });
  await ledger.deactivateUser('alicia');
}

async function allTokens(directory: DirectoryStore, query: TokenQuery & { now: string }): Promise<DirectoryToken[]> {
  const rows: DirectoryToken[] = [];
  for (let cursor: string | undefined, i = 0; i < 100; i++) {
    const page = await directory.listTokens({ ...query, cursor });
    rows.push(...page.results);
    if (page.next === null) return rows;
    cursor = page.next;
  }
  throw new Error('paging does not end');
}

/**
 * A migrated directory answers as a fresh one: the same dump, search and scope+name lists, and it
 * keeps its side tables as new events arrive. Returns the `now` its queries used.
 */
async function expectMigrated(fixture: ReturnType<typeof tempLedger>, migrated: DirectoryStore, expected: unknown): Promise<string> {
  expect(await migrated.dump()).toEqual(expected);
  const now = fixture.now().toISOString();
  expect((await migrated.listUsers({ search: 'lic' })).results.map((u) => u.username)).toEqual(['Alice', 'alicia']);
  expect((await migrated.listTokens({ now, scope: 'tokens:read', name: 'ci' })).results.map((t) => t.username)).toEqual(['Alice', 'Bobby_x', 'alicia', 'bob']);
  await fixture.ledger.issueToken({ username: 'carol', name: 'late', scopes: ['audit:read'] });
  await new DirectoryProjector(fixture.store, migrated).catchUp();
  expect((await migrated.listTokens({ now, scope: 'audit:read' })).results.map((t) => t.name)).toEqual(['late']);
  return now;
}

describe('SQLite directory, version 1 → 5', () => {
  it('migrates a version-1 file in place: side tables filled from its rows, the same answers as a fresh one', async () => {
    const fixture = tempLedger();
    const dir = mkdtempSync(join(tmpdir(), 'tl-dirplan-'));
    const file = join(dir, 'directory.db');
    try {
      await history(fixture);
      const fresh = new SqliteDirectory(file);
      await new DirectoryProjector(fixture.store, fresh).catchUp();
      const expected = await fresh.dump();
      expect(expected.tokenScopes.length).toBe(15);
      expect(expected.userGrams.map((u) => u.username)).toEqual(['Alice', 'Bobby_x', 'alicia', 'bob', 'carol']);
      await fresh.close();

      // The file as version 1 left it: no side tables, triggers or version-2 indexes.
      const db = new Database(file);
      db.exec(`
        DROP TRIGGER tokens_scopes_insert; DROP TRIGGER tokens_scopes_update; DROP TRIGGER tokens_scopes_delete;
        DROP TABLE user_grams; DROP TABLE user_grams_new; DROP TABLE token_scopes;
        DROP INDEX users_staff; DROP INDEX users_active; DROP INDEX users_staff_active;
        DROP INDEX tokens_revoked; DROP INDEX tokens_expiry; DROP INDEX tokens_grace;
        DROP INDEX tokens_name; CREATE INDEX tokens_name ON tokens (name); DROP INDEX tokens_prefix;
        PRAGMA user_version = 1;
      `);
      db.close();

      const migrated = new SqliteDirectory(file);
      try {
        const now = await expectMigrated(fixture, migrated, expected);
        // A token issued again under its id (INSERT OR REPLACE) leaves only its new scopes.
        const issued = (await fixture.store.readAll({ after: 0n, limit: 1_000 })).find((e) => e.type === 'TokenIssued')!;
        const again = { ...issued, position: (await migrated.checkpoint()) + 1n, data: { ...(issued.data as object), scopes: ['x:y'] } };
        await migrated.apply([again]);
        const id = (issued.data as { tokenId: string }).tokenId;
        expect((await migrated.dump()).tokenScopes.filter((s) => s.tokenId === id).map((s) => s.scope)).toEqual(['x:y']);
      } finally {
        await migrated.close();
      }
    } finally {
      await fixture.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('version 3 → 5: the user_grams triggers go, and the projector keeps user_grams itself (erasure, new users)', async () => {
    const fixture = tempLedger();
    const dir = mkdtempSync(join(tmpdir(), 'tl-dirplan-'));
    const file = join(dir, 'directory.db');
    try {
      await history(fixture);
      const made = new SqliteDirectory(file);
      await new DirectoryProjector(fixture.store, made).catchUp();
      await made.close();
      // A version-3 file had triggers on users that kept user_grams; this one stands for them.
      const db = new Database(file);
      db.exec(`
        CREATE TRIGGER users_grams_delete AFTER DELETE ON users BEGIN DELETE FROM user_grams WHERE stream_id = OLD.stream_id; END;
        PRAGMA user_version = 3;
      `);
      db.close();

      const migrated = new SqliteDirectory(file);
      try {
        const check = new Database(file, { readonly: true });
        expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'users_grams%'").all()).toEqual([]);
        expect(check.pragma('user_version', { simple: true })).toBe(5);
        check.close();
        await fixture.ledger.deleteUser('alicia');
        await fixture.ledger.registerUser({ username: 'Malice', password: null });
        await new DirectoryProjector(fixture.store, migrated).catchUp();
        expect((await migrated.listUsers({ search: 'lic' })).results.map((u) => u.username)).toEqual(['Alice', 'Malice']);
        const rebuilt = new SqliteDirectory(join(dir, 'rebuilt.db'));
        await new DirectoryProjector(fixture.store, rebuilt).rebuild();
        expect((await migrated.dump()).userGrams).toEqual((await rebuilt.dump()).userGrams);
        await rebuilt.close();
      } finally {
        await migrated.close();
      }
    } finally {
      await fixture.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('time statuses: the range plan (few at now) and the list-order plan (many at now) give the reference rows', async () => {
    const fixture = tempLedger();
    const directory = new SqliteDirectory(':memory:');
    try {
      await history(fixture);
      await new DirectoryProjector(fixture.store, directory).catchUp();
      const dump = await directory.dump();
      const plans = () => [...(directory as unknown as { cached: Map<string, unknown> }).cached.keys()].join('\n');
      const start = fixture.now().getTime();
      // 15 tokens: the plan reads the range index when fewer than ⌈√((limit + 1) × 15)⌉ are in the
      // status (6 for limit 1, 7 for limit 2, 8 for limit 3). Expiring within 40 days at the start
      // (9: the ci and deploy tokens not revoked) and expired 31 days later (9) take the list order;
      // expired 2 hours later (the 4 ci) and grace (bob's one rotation) the range.
      for (const [ahead, limit] of [
        [0, 1],
        [2 * HOUR, 1],
        [31 * 24 * HOUR, 1],
        [31 * 24 * HOUR, 2],
        [5 * 60_000, 3],
      ] as const) {
        const now = new Date(start + ahead).toISOString();
        for (const status of ['expired', 'expiring', 'grace'] as const) {
          for (const scope of [undefined, 'tokens:read']) {
            const got = await allTokens(directory, { now, status, limit, scope, withinMs: 40 * 24 * HOUR });
            const within = new Date(start + ahead + 40 * 24 * HOUR).toISOString();
            const want = dump.tokens.filter(
              (t) =>
                t.revokedAt === null &&
                (scope === undefined || t.scopes.includes(scope)) &&
                (status === 'expired'
                  ? t.expiresAt !== null && t.expiresAt <= now
                  : status === 'expiring'
                    ? t.expiresAt !== null && t.expiresAt > now && t.expiresAt <= within
                    : (t.expiresAt === null || t.expiresAt > now) && t.graceUntil !== null && t.graceUntil > now),
            );
            expect(got.map((t) => t.tokenId), `${status} ${scope} at +${ahead}`).toEqual(want.map((t) => t.tokenId));
          }
        }
      }
      // A key prefix: an index range when few keys start so (a token's own prefix), else the list order ('tl_').
      const now = fixture.now().toISOString();
      const expired = new Date(start + 31 * 24 * HOUR).toISOString();
      for (const prefix of ['tl_', 'tl', ...dump.tokens.map((t) => t.keyPrefix.slice(0, 5)), 'zz', 'tl_~']) {
        for (const [at, status] of [[now, 'any'], [expired, 'expired'], [now, 'current']] as const) {
          const got = await allTokens(directory, { now: at, keyPrefix: prefix, status, limit: 2 });
          const want = dump.tokens.filter(
            (t) =>
              t.keyPrefix.startsWith(prefix) &&
              (status === 'any' || (t.revokedAt === null && (status === 'expired' ? t.expiresAt !== null && t.expiresAt <= at : true))),
          );
          expect(got.map((t) => t.tokenId), `${prefix} ${status}`).toEqual(want.map((t) => t.tokenId));
        }
      }
      expect(plans()).toContain('INDEXED BY tokens_prefix');
      // Both plans ran.
      expect(plans()).toContain('INDEXED BY tokens_expiry');
      expect(plans()).toContain('INDEXED BY tokens_order');
      expect(plans()).toContain('INDEXED BY tokens_grace');
    } finally {
      await directory.close();
      await fixture.dispose();
    }
  });
});

describe('PostgreSQL directory, migrations 1 → 3', () => {
  it('migrates a version-1 schema in place: token_scopes filled from its rows, the same answers', async () => {
    const fixture = tempLedger();
    const url = schemas.url();
    const schema = new URL(url).searchParams.get('schema')!;
    try {
      await history(fixture);
      const fresh = await openDirectoryStore(url);
      await new DirectoryProjector(fixture.store, fresh).catchUp();
      const expected = await fresh.dump();
      expect(expected.tokenScopes.length).toBe(15);
      await fresh.close();

      const client = await pgClient();
      try {
        const s = `"${schema}"`;
        await client.query(`
          DROP TABLE ${s}.token_scopes; DROP TRIGGER tokens_scopes ON ${s}.tokens; DROP TRIGGER tokens_scopes_update ON ${s}.tokens;
          DROP FUNCTION ${s}.token_scopes_sync();
          DROP INDEX ${s}.users_staff; DROP INDEX ${s}.users_active; DROP INDEX ${s}.users_staff_active;
          DROP INDEX ${s}.tokens_revoked; DROP INDEX ${s}.tokens_expiry; DROP INDEX ${s}.tokens_grace;
          DROP INDEX ${s}.tokens_name; CREATE INDEX tokens_name ON ${s}.tokens (name);
          DROP INDEX IF EXISTS ${s}.users_search_trgm;
          DROP INDEX ${s}.tokens_prefix;
          DELETE FROM ${s}.schema_version WHERE version >= 2;
        `);
      } finally {
        await client.end();
      }

      const migrated = await openDirectoryStore(url);
      try {
        await expectMigrated(fixture, migrated, expected);
      } finally {
        await migrated.close();
      }
    } finally {
      await fixture.dispose();
    }
  });
});

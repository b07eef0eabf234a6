import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultDeps } from '../../src/app/context.js';
import { Ledger } from '../../src/app/ledger.js';
import { tokenView } from '../../src/app/tokens.js';
import { openDirectoryStore } from '../../src/directory/open.js';
import type { DirectoryCounts, DirectoryStore, DirectoryToken, DirectoryUser, TokenQuery, UserQuery } from '../../src/directory/port.js';
import { DirectoryProjector } from '../../src/directory/projector.js';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import { evolve, initialState, ledgerEventOf, type LedgerEvent, type UserState } from '../../src/domain/index.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { openLog } from '../../src/eventstore/vault/open.js';
import { TEST_ACTOR, tempLedger } from '../app/ledger-fixture.js';
import { pgSchemas } from '../eventstore/postgres-fixture.js';

/**
 * The directory against the test's own reference: the domain's `evolve` folded over the whole log
 * gives every user and their tokens not revoked; a token that leaves a user's state is revoked at
 * that event; a deleted user is gone (no user row, no token row, live or revoked). For random
 * histories with user deletes, on a sealing log (log + vault as the app opens them) and real
 * SQLite and PostgreSQL directories:
 * - the directory built incrementally (random batch sizes) equals the directory rebuilt from scratch;
 * - every list query (random filters, random page sizes) equals the reference's answer, page by page,
 *   and the counts equal the reference's;
 * - a deleted user's name and token descriptions are nowhere in the directory;
 * - paging while new users and tokens are inserted between pages skips and repeats no row.
 */
const schemas = pgSchemas('dirprop');
afterAll(() => schemas.dropAll());

const MIN = 60_000;
// '_' and '.' are wildcards or special in LIKE patterns; mixed case tests case-insensitive search.
const USERS = ['alice', 'Al_ice', 'bob', 'BOBBY', 'c.x', 'al%'];
const VALID_USERS = USERS.filter((u) => /^[\w.@+-]+$/u.test(u));
const NAMES = ['default', 'ci', 'a.b'];
const SCOPES = ['tokens:read', 'users:write'];

type Cmd =
  | { kind: 'register'; user: string; staff: boolean; password: boolean }
  | { kind: 'issue'; user: string; name: string; reset: boolean; expiresIn: string | null; scopes: string[] }
  | { kind: 'rotate'; user: string; name: string; grace: string | null }
  | { kind: 'revoke'; user: string; name: string }
  | { kind: 'revokeAll'; user: string }
  | { kind: 'deactivate' | 'activate'; user: string }
  | { kind: 'flags'; user: string; staff: boolean }
  | { kind: 'delete'; user: string };

const user = fc.constantFrom(...VALID_USERS);
const name = fc.constantFrom(...NAMES);
const command: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('register' as const), user, staff: fc.boolean(), password: fc.constant(false) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('issue' as const),
      user,
      name,
      reset: fc.boolean(),
      expiresIn: fc.constantFrom(null, '30m', '3h'),
      scopes: fc.subarray(SCOPES),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rotate' as const), user, name, grace: fc.constantFrom(null, '10m', '2h') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), user, name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revokeAll' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('deactivate' as const, 'activate' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flags' as const), user, staff: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), user }) },
);
const step = fc.constantFrom(0, 1_000, 5 * MIN, 40 * MIN);

async function run(ledger: Ledger, cmd: Cmd): Promise<void> {
  try {
    switch (cmd.kind) {
      case 'register':
        await ledger.registerUser({ username: cmd.user, password: null, isStaff: cmd.staff });
        return;
      case 'issue':
        await ledger.issueToken({ username: cmd.user, name: cmd.name, reset: cmd.reset, expiresIn: cmd.expiresIn, scopes: cmd.scopes, description: descOf(cmd.user) });
        return;
      case 'rotate':
        await ledger.rotateToken({ username: cmd.user, name: cmd.name, grace: cmd.grace });
        return;
      case 'revoke':
        await ledger.revokeToken({ username: cmd.user, name: cmd.name });
        return;
      case 'revokeAll':
        await ledger.revokeToken({ username: cmd.user, all: true });
        return;
      case 'deactivate':
        await ledger.deactivateUser(cmd.user);
        return;
      case 'activate':
        await ledger.activateUser(cmd.user);
        return;
      case 'flags':
        await ledger.setUserFlags(cmd.user, { isStaff: cmd.staff });
        return;
      case 'delete':
        await ledger.deleteUser(cmd.user);
        return;
    }
  } catch (error) {
    if ((error as { name?: string }).name !== 'DomainError') throw error;
  }
}

const descOf = (user: string) => `desc-of-${user}`;

/** A ledger on a sealing log (SQLite temp file + its SQLite vault beside it, as openLog opens them), with a hand-moved clock. */
async function sealedLedger(start = Date.UTC(2030, 0, 1)) {
  const dir = mkdtempSync(join(tmpdir(), 'tl-dirprop-'));
  const store = await openLog({ store: `sqlite:${join(dir, 'events.db')}` });
  let nowMs = start;
  const ledger = new Ledger({ ...defaultDeps(store), clock: () => new Date(nowMs) }, TEST_ACTOR);
  return {
    ledger,
    store,
    now: () => new Date(nowMs),
    advance: (ms: number) => void (nowMs += ms),
    async dispose() {
      await ledger.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface RefToken extends Omit<DirectoryToken, 'status'> {}

/** The reference: evolve over the whole log; tokens that leave a user's state are revoked there. */
async function referenceOf(store: EventStore): Promise<{ users: DirectoryUser[]; tokens: RefToken[] }> {
  const states = new Map<string, UserState>();
  const revoked = new Map<string, RefToken>();
  for (const recorded of await store.readAll()) {
    const event = ledgerEventOf(recorded) as LedgerEvent | null;
    if (event === null) continue;
    const before = states.get(recorded.streamId) ?? initialState();
    const after = evolve(before, event);
    if (event.type === 'UserDeleted') {
      // Erased: the user and every token they ever had (revoked ones too) are gone.
      for (const key of [...revoked.keys()]) if (key.startsWith(`${recorded.streamId} `)) revoked.delete(key);
    } else if (before.exists) {
      const live = new Set(after.exists ? Object.values(after.tokens).map((t) => t.tokenId) : []);
      for (const token of Object.values(before.tokens)) {
        if (live.has(token.tokenId)) continue;
        const reason = event.type === 'TokenRevoked' ? event.data.reason : null;
        revoked.set(`${recorded.streamId} ${token.tokenId}`, { ...tokenView(before.username, token), revokedAt: event.data.at, _reason: reason } as never);
      }
    }
    states.set(recorded.streamId, after);
  }
  const users: DirectoryUser[] = [];
  const tokens: RefToken[] = [...revoked.values()].map(({ _reason, ...t }: RefToken & { _reason?: unknown }) => t);
  for (const state of states.values()) {
    if (!state.exists) continue;
    const { userId, username, active, isStaff, isSuperuser, passwordHash, createdAt } = state;
    users.push({ userId, username, active, isStaff, isSuperuser, hasPassword: passwordHash !== null, createdAt, tokens: Object.keys(state.tokens).length });
    for (const token of Object.values(state.tokens)) tokens.push({ ...tokenView(username, token), revokedAt: null });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  users.sort((a, b) => cmp(a.username, b.username));
  tokens.sort((a, b) => cmp(a.username, b.username) || cmp(a.createdAt, b.createdAt) || cmp(a.tokenId, b.tokenId));
  return { users, tokens };
}

function refCounts(users: DirectoryUser[], tokens: RefToken[], now: string, withinMs: number): DirectoryCounts {
  const within = new Date(Date.parse(now) + withinMs).toISOString();
  const open = tokens.filter((t) => t.revokedAt === null);
  const live = open.filter((t) => t.expiresAt === null || t.expiresAt > now);
  return {
    users: { total: users.length, active: users.filter((u) => u.active).length, staff: users.filter((u) => u.isStaff).length },
    tokens: {
      live: live.length,
      grace: live.filter((t) => t.graceUntil !== null && t.graceUntil > now).length,
      expired: open.length - live.length,
      revoked: tokens.length - open.length,
      expiring: live.filter((t) => t.expiresAt !== null && t.expiresAt <= within).length,
    },
  };
}

function statusAt(t: RefToken, now: string): DirectoryToken['status'] {
  if (t.revokedAt !== null) return 'revoked';
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired';
  if (t.graceUntil !== null && t.graceUntil > now) return 'grace';
  return 'live';
}

const WEEK = 7 * 86_400_000;
/** Whether a token is what the user's state holds at `now`: not revoked, nor expired a week ago. */
const current = (t: RefToken, now: string) =>
  t.revokedAt === null && (t.expiresAt === null || Date.parse(t.expiresAt) + WEEK > Date.parse(now));

function refUsers(users: DirectoryUser[], tokens: RefToken[], q: UserQuery & { now: string }): DirectoryUser[] {
  const count = (username: string) => tokens.filter((t) => t.username === username && current(t, q.now)).length;
  return users.map((u) => ({ ...u, tokens: count(u.username) })).filter(
    (u) =>
      (!q.search || u.username.toLowerCase().includes(q.search.toLowerCase())) &&
      (!q.prefix || u.username.toLowerCase().startsWith(q.prefix.toLowerCase())) &&
      (q.active === undefined || u.active === q.active) &&
      (q.staff === undefined || u.isStaff === q.staff),
  );
}

function refTokens(tokens: RefToken[], q: TokenQuery & { now: string }): DirectoryToken[] {
  const within = new Date(Date.parse(q.now) + (q.withinMs ?? 7 * 86_400_000)).toISOString();
  return tokens
    .map((t) => ({ ...t, status: statusAt(t, q.now) }))
    .filter((t) => {
      const s = t.status;
      const ok =
        q.status === 'any' ||
        (q.status === undefined || q.status === 'current' ? current(t, q.now) : false) ||
        (q.status === 'live' && (s === 'live' || s === 'grace')) ||
        (q.status === 'expiring' && (s === 'live' || s === 'grace') && t.expiresAt !== null && t.expiresAt <= within) ||
        q.status === s;
      return (
        ok &&
        (q.user === undefined || t.username === q.user) &&
        (q.name === undefined || t.name === q.name) &&
        (!q.keyPrefix || t.keyPrefix.startsWith(q.keyPrefix)) &&
        (q.scope === undefined || t.scopes.includes(q.scope))
      );
    });
}

async function allPages<T>(fetch: (cursor?: string) => Promise<{ results: T[]; next: string | null }>): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 1_000; guard++) {
    const page = await fetch(cursor);
    rows.push(...page.results);
    if (page.next === null) return rows;
    cursor = page.next;
  }
  throw new Error('paging does not end');
}

/** A filter that is usually absent, so most queries span several pages. */
const maybe = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
const defined = <T extends object>(query: T): T => Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as T;

const userQuery: fc.Arbitrary<UserQuery> = fc
  .record({
    // Three characters or more: SQLite's trigram side table drives the search (PostgreSQL: pg_trgm).
    search: maybe(fc.constantFrom('al', 'AL', '_', '.', 'b', 'x', '%', 'ali', 'LIC', 'l_i', 'bob', 'OBB', 'c.x', 'al%', 'zzz', 'alice')),
    prefix: maybe(fc.constantFrom('a', 'B', 'al_', 'c.', 'ALI', 'bo', 'bobby', 'lic')),
    active: maybe(fc.boolean()),
    staff: maybe(fc.boolean()),
  })
  .map(defined);
const tokenQuery: fc.Arbitrary<Omit<TokenQuery, 'now'>> = fc
  .record({
    user: maybe(fc.constantFrom(...VALID_USERS)),
    name: maybe(name),
    status: maybe(fc.constantFrom('current', 'live', 'expiring', 'grace', 'expired', 'revoked', 'any') as fc.Arbitrary<TokenQuery['status']>),
    withinMs: maybe(fc.constantFrom(20 * MIN, 30 * MIN, 2 * 3_600_000)),
    scope: maybe(fc.constantFrom(...SCOPES)),
    keyPrefix: maybe(fc.constantFrom('tl_', 'tl_A', 'x')),
  })
  .map(defined);

const kinds: [string, () => Promise<DirectoryStore>][] = [
  ['sqlite', () => openDirectoryStore('sqlite::memory:')],
  // New users' grams merged into user_grams every few rows, so that searches read both tables.
  ['sqlite, user_grams merged every 8 rows', async () => new SqliteDirectory(':memory:', { gramsMergeRows: 8 })],
  ['postgres', () => openDirectoryStore(schemas.url())],
];

describe.each(kinds)('directory == reference fold, on %s', (_kind, open) => {
  it('histories with deletes: incremental == rebuild; every list query and the counts == the reference, across pages; the erased leave no name', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(step, command), { minLength: 5, maxLength: 30, size: 'max' }).map((rest): [number, Cmd][] => [
          // Three users from the start, so most commands reach the token rules.
          ...['alice', 'Al_ice', 'bob'].map((u, i): [number, Cmd] => [0, { kind: 'register', user: u, staff: i === 1, password: false }]),
          // Two of them with a token, so deletes often erase tokens (live or revoked later) too.
          ...['alice', 'bob'].map((u): [number, Cmd] => [0, { kind: 'issue', user: u, name: 'default', reset: false, expiresIn: null, scopes: [] }]),
          ...rest,
        ]),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(userQuery, tokenQuery, fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 20 * MIN, 30 * MIN, 3 * 3_600_000, 4 * 3_600_000, 7 * 86_400_000 + 30 * MIN, 8 * 86_400_000)), { minLength: 3, maxLength: 6 }),
        async (history, batchSizes, queries) => {
          const fixture = await sealedLedger();
          const directory: DirectoryStore = await open();
          try {
            for (const [ms, cmd] of history) {
              fixture.advance(ms);
              await run(fixture.ledger, cmd);
            }
            // Incrementally, in batches of random sizes, some applied twice.
            for (let after = 0n, i = 0; ; i++) {
              const batch = await fixture.store.readAll({ after, limit: batchSizes[i % batchSizes.length]! });
              if (batch.length === 0) break;
              await directory.apply(batch, after);
              if (i % 2 === 0) await directory.apply(batch);
              after = batch.at(-1)!.position;
            }
            const incremental = await directory.dump();
            const reference = await referenceOf(fixture.store);
            expect(incremental.users.map(({ streamId: _s, ...u }) => u)).toEqual(reference.users);
            expect(incremental.tokens.map(({ streamId: _s, digest: _d, previousDigest: _p, revokeReason: _r, ...t }) => t)).toEqual(reference.tokens);

            // The erased users' rows hold no username (nor its search key) and no token description.
            const deleted = new Set<string>();
            for (const [, cmd] of history) if (cmd.kind === 'delete') deleted.add(cmd.user);
            for (const u of reference.users) deleted.delete(u.username);
            const text = JSON.stringify(incremental, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
            for (const gone of deleted) {
              for (const secret of [gone, gone.toLowerCase(), descOf(gone)]) expect(text, gone).not.toContain(`"${secret}"`);
            }

            for (const [uq, tq, limit, ahead] of queries) {
              const now = new Date(fixture.now().getTime() + ahead).toISOString();
              const users = await allPages((cursor) => directory.listUsers({ ...uq, now, limit, cursor }));
              expect(users, JSON.stringify(uq)).toEqual(refUsers(reference.users, reference.tokens, { ...uq, now }));
              const tokens = await allPages((cursor) => directory.listTokens({ ...tq, now, limit, cursor }));
              expect(tokens, JSON.stringify(tq)).toEqual(refTokens(reference.tokens, { ...tq, now }));
              const withinMs = tq.withinMs ?? 7 * 86_400_000;
              expect(await directory.counts(now, withinMs), now).toEqual(refCounts(reference.users, reference.tokens, now, withinMs));
            }

            // Rebuilt over the full directory, in batches of random sizes (a stream's rows carried across batches).
            await new DirectoryProjector(fixture.store, directory, { rebuildBatchSize: batchSizes[0] }).rebuild();
            expect(await directory.dump()).toEqual(incremental);
            // The rebuilt directory answers as well (its side tables are in the dump too, but the
            // plans that read them are checked here).
            for (const [uq, tq, limit, ahead] of queries.slice(0, 2)) {
              const now = new Date(fixture.now().getTime() + ahead).toISOString();
              const users = await allPages((cursor) => directory.listUsers({ ...uq, now, limit, cursor }));
              expect(users, JSON.stringify(uq)).toEqual(refUsers(reference.users, reference.tokens, { ...uq, now }));
              const tokens = await allPages((cursor) => directory.listTokens({ ...tq, now, limit, cursor }));
              expect(tokens, JSON.stringify(tq)).toEqual(refTokens(reference.tokens, { ...tq, now }));
            }
          } finally {
            await directory.close();
            await fixture.dispose();
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it('paging while users and tokens are inserted between pages: no row skipped or repeated, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.constantFrom('aa', 'Ab', 'b_', 'zz', 'a', 'm.m', 'c'), { minLength: 1, maxLength: 6 }),
        async (limit, inserts) => {
          const fixture = tempLedger();
          const directory: DirectoryStore = await open();
          const projector = new DirectoryProjector(fixture.store, directory);
          try {
            for (const name of ['al', 'bo', 'Ca', 'de', 'ee']) {
              await fixture.ledger.registerUser({ username: name, password: null });
              await fixture.ledger.issueToken({ username: name });
              fixture.advance(1_000);
            }
            await projector.catchUp();
            const now = fixture.now().toISOString();
            const before = (await directory.listUsers({ limit: 500 })).results.map((u) => u.username);
            const tokensBefore = (await directory.listTokens({ now, limit: 500 })).results.map((t) => t.tokenId);
            const seen: string[] = [];
            const seenTokens: string[] = [];
            let cursor: string | undefined;
            let tokenCursor: string | undefined;
            let i = 0;
            for (let usersDone = false, tokensDone = false; !(usersDone && tokensDone); i++) {
              if (i > 200) throw new Error('paging does not end');
              if (!usersDone) {
                const page = await directory.listUsers({ limit, cursor });
                seen.push(...page.results.map((u) => u.username));
                usersDone = page.next === null;
                cursor = page.next ?? undefined;
              }
              if (!tokensDone) {
                const page = await directory.listTokens({ now, limit, cursor: tokenCursor });
                seenTokens.push(...page.results.map((t) => t.tokenId));
                tokensDone = page.next === null;
                tokenCursor = page.next ?? undefined;
              }
              const insert = inserts[i];
              if (insert !== undefined) {
                await run(fixture.ledger, { kind: 'register', user: `${insert}${i}`, staff: false, password: false });
                await run(fixture.ledger, { kind: 'issue', user: `${insert}${i}`, name: 'default', reset: false, expiresIn: null, scopes: [] });
                // An older user gets a new token too: it sorts inside the pages already read or ahead of the cursor.
                await run(fixture.ledger, { kind: 'issue', user: 'bo', name: `n${i}`, reset: false, expiresIn: null, scopes: [] });
                await projector.catchUp();
              }
            }
            expect(new Set(seen).size).toBe(seen.length);
            expect(new Set(seenTokens).size).toBe(seenTokens.length);
            for (const name of before) expect(seen).toContain(name);
            for (const id of tokensBefore) expect(seenTokens).toContain(id);
            expect([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(seen);
          } finally {
            await directory.close();
            await fixture.dispose();
          }
        },
      ),
      { numRuns: 10 },
    );
  });
});

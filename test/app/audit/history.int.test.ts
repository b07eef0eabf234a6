import { afterEach, describe, expect, it } from 'vitest';
import { auditList, auditPage, auditPages, auditQuery, followAudit, streamBatches, toAuditEntry, type AuditEntry } from '../../../src/app/audit/history.js';
import { operator } from '../../../src/app/context.js';
import { Ledger } from '../../../src/app/ledger.js';
import { digestKey } from '../../../src/domain/index.js';
import { logBatches } from '../../../src/eventstore/log-batches.js';
import { SqliteEventStore } from '../../../src/eventstore/sqlite.js';
import { tempLedger } from '../ledger-fixture.js';
import { countingStore } from './counting-store.js';

const MIN = 60_000;
let fixture: ReturnType<typeof tempLedger>;

afterEach(async () => {
  await fixture.dispose();
});

/** alice and bob, through the CLI and over HTTP, a minute apart: 7 events. */
async function history() {
  fixture = tempLedger();
  const { ledger, advance } = fixture;
  const web = ledger.as(operator({ actor: 'bob', channel: 'http', source: '203.0.113.9', correlationId: 'req-42' }));
  await ledger.registerUser({ username: 'alice', password: 'correct horse battery staple' }); // 00:00
  advance(MIN);
  await ledger.registerUser({ username: 'bob', password: null }); // 00:01
  advance(MIN);
  const issued = await ledger.issueToken({ username: 'alice' }); // 00:02
  advance(MIN);
  await web.issueToken({ username: 'bob', name: 'ci' }); // 00:03
  advance(MIN);
  const rotated = await ledger.rotateToken({ username: 'alice', grace: '10m' }); // 00:04
  advance(MIN);
  await web.revokeToken({ username: 'bob', name: 'ci' }); // 00:05
  advance(MIN);
  await web.issueToken({ username: 'alice', name: 'deploy' }); // 00:06
  return { ...fixture, keys: [issued.key, rotated.key] };
}

const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();
const query = (input: Parameters<typeof auditQuery>[0]) => auditQuery(input, new Date(Date.UTC(2030, 0, 1, 0, 7)));
const types = (entries: AuditEntry[]) => entries.map((e) => `${e.user}:${e.type}${e.token ? `:${e.token}` : ''}`);

describe('audit queries', () => {
  it('lists the whole history in log order, with who, through what and from where', async () => {
    const { store } = await history();
    const all = await auditList(store, query({}));
    expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(all[3]).toMatchObject({
      streamId: 'user-bob',
      revision: 1,
      user: 'bob',
      token: 'ci',
      type: 'TokenIssued',
      metadata: { actor: 'bob', channel: 'http', source: '203.0.113.9', correlationId: 'req-42', at: at(3) },
    });
    expect(all[0]!.metadata).toMatchObject({ actor: 'tester', channel: 'cli', source: 'test-host' });
  });

  it('a page reads at most its reading limit: a rare match answers short pages that go on from where the reading stopped', async () => {
    const { store } = await history();
    // One TokenRevoked, at position 6; a reading limit of 2 events per page.
    const rare = { ...query({ type: ['TokenRevoked'] }), limit: 10 };
    const pages = [];
    for (let after = 0n, i = 0; i < 10; i++) {
      const page = await auditPage(store, { ...rare, after }, 2);
      pages.push({ positions: page.entries.map((e) => e.position), reached: page.reached, end: page.end });
      if (page.end) break;
      after = page.reached;
    }
    expect(pages).toEqual([
      { positions: [], reached: 2n, end: false },
      { positions: [], reached: 4n, end: false },
      { positions: [6], reached: 6n, end: false },
      { positions: [], reached: 7n, end: true },
    ]);
    // A full page stops at its limit, whatever is left to read.
    expect(await auditPage(store, { ...query({}), limit: 3 }, 100)).toMatchObject({ reached: 3n, end: false });
    expect((await auditPage(store, { ...query({ user: 'alice' }), limit: 10, after: 3n }, 100)).entries.map((e) => e.position)).toEqual([5, 7]);
  });

  it('a page of a long stream reads from its cursor on, not the stream: a user with 1,000 events, and a token two users hold', async () => {
    fixture = tempLedger();
    const { ledger, store } = fixture;
    await ledger.registerUser({ username: 'alice', password: null });
    await ledger.registerUser({ username: 'bob', password: null });
    await ledger.issueToken({ username: 'bob', name: 'ci' });
    await ledger.issueToken({ username: 'alice', name: 'ci' });
    for (let i = 0; i < 1_000; i++) {
      await ledger.rotateToken({ username: 'alice', name: 'ci' });
      if (i % 100 === 0) await ledger.rotateToken({ username: 'bob', name: 'ci' });
    }
    const { store: counted, read: counter } = countingStore(store);
    const everything = await auditList(store, query({}));
    for (const [filter, streams] of [
      [{ user: 'alice' }, ['user-alice']],
      [{ token: 'ci' }, ['user-alice', 'user-bob']],
    ] as const) {
      const expected = everything.filter((e) => streams.includes(e.streamId as never) && (!('token' in filter) || e.token === 'ci'));
      expect(expected.length).toBeGreaterThan(1_000);
      // Pages of 7 from a cursor deep in the streams: the same events as the whole history, and
      // each page reads about a batch (plus a few one-event probes), never the streams again.
      const start = expected[700]!.position;
      const paged: AuditEntry[] = [];
      for (let after = BigInt(start), pages = 0; pages < 20; pages++) {
        counter.events = 0;
        const page = await auditPage(counted, { ...query(filter), streams, after, limit: 7 });
        expect(counter.events).toBeLessThan(600);
        paged.push(...page.entries);
        if (page.end) break;
        after = BigInt(page.entries.at(-1)!.position);
      }
      expect(paged).toEqual(expected.filter((e) => e.position > start).slice(0, paged.length));
      expect(paged.length).toBe(7 * 20);

      // Newest first (the admin console's history), from a cursor or from the end: the first
      // batch reads about a batch; read to the end, the streams merge into the whole history.
      const all = streams.length === 1 ? expected : everything.filter((e) => streams.includes(e.streamId as never));
      counter.events = 0;
      const newest = await streamBatches(counted, streams, { before: BigInt(start) }).next();
      expect(counter.events).toBeLessThan(600);
      const older = all.filter((e) => e.position < start).reverse();
      expect((newest.value as never[]).map(toAuditEntry)).toEqual(older.slice(0, (newest.value as never[]).length));
      const back: AuditEntry[] = [];
      for await (const batch of streamBatches(store, streams, { before: null })) back.push(...batch.map(toAuditEntry));
      expect(back).toEqual([...all].reverse());
    }
  }, 60_000);

  it('filters by user, token, type (case-insensitive) and time, inclusively', async () => {
    const { store } = await history();
    expect(types(await auditList(store, query({ user: 'alice' })))).toEqual([
      'alice:UserRegistered',
      'alice:TokenIssued:default',
      'alice:TokenRotated:default',
      'alice:TokenIssued:deploy',
    ]);
    expect(types(await auditList(store, query({ token: 'ci' })))).toEqual(['bob:TokenIssued:ci', 'bob:TokenRevoked:ci']);
    expect(types(await auditList(store, query({ type: ['tokenrevoked', 'UserRegistered'] })))).toEqual([
      'alice:UserRegistered',
      'bob:UserRegistered',
      'bob:TokenRevoked:ci',
    ]);
    expect(types(await auditList(store, query({ since: at(2), until: at(4), user: 'alice' })))).toEqual([
      'alice:TokenIssued:default',
      'alice:TokenRotated:default',
    ]);
    // A duration means "that long ago" (the query's now is 00:07).
    expect((await auditList(store, query({ since: '2m' }))).map((e) => e.position)).toEqual([6, 7]);
  });

  it('--limit keeps the most recent matches, in log order; `after` pages forward', async () => {
    const { store } = await history();
    expect((await auditList(store, { ...query({ limit: 3 }), newest: true })).map((e) => e.position)).toEqual([5, 6, 7]);
    expect((await auditList(store, { ...query({ limit: 2, user: 'alice' }), newest: true })).map((e) => e.position)).toEqual([5, 7]);
    expect(await auditList(store, { ...query({ limit: 0 }), newest: true })).toEqual([]);
    expect((await auditList(store, { ...query({ limit: 2 }), after: 3n })).map((e) => e.position)).toEqual([4, 5]);
  });

  it('never shows a password hash or a whole digest, and never a key', async () => {
    const { store, keys } = await history();
    const text = JSON.stringify(await auditList(store, query({})));
    expect(text).not.toMatch(/\$argon2id\$/);
    for (const key of keys) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(digestKey(key));
      expect(text).toContain(`"${digestKey(key).slice(0, 12)}…"`);
    }
    const registered = (await auditList(store, query({ type: ['UserRegistered'] }))).map((e) => e.data);
    expect(registered).toMatchObject([{ passwordHash: '[redacted]' }, { passwordHash: null }]);
  });

  it('rejects malformed filters with a message naming the flag', () => {
    expect(() => query({ type: ['TokenExploded'] })).toThrow(/type: unknown event type "TokenExploded"/);
    expect(() => query({ since: 'yesterday' })).toThrow(/since: "yesterday" is not a time/);
    expect(() => query({ user: 'no spaces' })).toThrow(/user:/);
    expect(() => query({ limit: -1 })).toThrow(/limit/);
  });

  it('reads the log in batches: every event exactly once, in order, across batch boundaries', async () => {
    const { store } = await history();
    const batches: bigint[][] = [];
    for await (const batch of logBatches(store, { batch: 3 })) batches.push(batch.map((e) => e.position));
    expect(batches).toEqual([[1n, 2n, 3n], [4n, 5n, 6n], [7n]]);
    const pages: number[] = [];
    for await (const page of auditPages(store, query({}))) pages.push(...page.map((e) => e.position));
    expect(pages).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('followAudit', () => {
  it('yields the last N, then events appended later by another connection, until aborted', async () => {
    const { store, ledger } = await history();
    const controller = new AbortController();
    const seen: string[] = [];
    const follow = (async () => {
      for await (const page of followAudit(store, { ...query({ limit: 2, user: 'alice' }), newest: true }, { signal: controller.signal, pollMs: 20 })) {
        seen.push(...types(page));
      }
    })();
    // Another connection to the same file, as another process would have.
    const other = new SqliteEventStore((store as SqliteEventStore).path);
    const writer = new Ledger({ ...ledger.deps, store: other }, operator({ actor: 'ops', channel: 'admin', source: 'bastion' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writer.revokeToken({ username: 'alice', name: 'deploy' });
    await ledger.issueToken({ username: 'bob', name: 'not-alice' });
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await follow;
    await other.close();
    expect(seen).toEqual(['alice:TokenRotated:default', 'alice:TokenIssued:deploy', 'alice:TokenRevoked:deploy']);
  });
});

import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyLog } from '../../../src/app/audit/verify.js';
import { GENESIS_HASH, eventHash } from '../../../src/domain/index.js';
import type { SqliteEventStore } from '../../../src/eventstore/sqlite.js';
import { tempLedger } from '../ledger-fixture.js';

let fixture: ReturnType<typeof tempLedger>;
let db: Database.Database | undefined;

afterEach(async () => {
  db?.close();
  db = undefined;
  await fixture.dispose();
});

/** alice: 4 events at positions 1, 3, 4, 6; bob: 2 events at positions 2, 5. */
async function history() {
  fixture = tempLedger();
  const { ledger } = fixture;
  await ledger.registerUser({ username: 'alice', password: null });
  await ledger.registerUser({ username: 'bob', password: null });
  await ledger.issueToken({ username: 'alice' });
  await ledger.issueToken({ username: 'alice', name: 'ci' });
  await ledger.issueToken({ username: 'bob' });
  await ledger.revokeToken({ username: 'alice', name: 'ci' });
  db = new Database((fixture.store as SqliteEventStore).path);
  return { ...fixture, db };
}

interface Row {
  position: number;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
}

/** What an attacker who knows the algorithm does: edit an event and recompute its hash. */
function rehash(database: Database.Database, position: number, prevHash?: string): string {
  const row = database.prepare('SELECT * FROM events WHERE position = ?').get(position) as Row;
  const { hash: _old, ...metadata } = JSON.parse(row.metadata) as Record<string, unknown>;
  if (prevHash !== undefined) metadata.prevHash = prevHash;
  const hash = eventHash({ streamId: row.stream_id, revision: BigInt(row.revision), type: row.type, data: JSON.parse(row.data), metadata });
  database.prepare('UPDATE events SET metadata = ? WHERE position = ?').run(JSON.stringify({ ...metadata, hash }), position);
  return hash;
}

/** The head after `position`, computed the documented way: sha256 chained over the stored hashes. */
function headAt(database: Database.Database, position: number): string {
  let head = GENESIS_HASH;
  for (const row of database.prepare('SELECT metadata FROM events WHERE position <= ? ORDER BY position').all(position) as Row[]) {
    head = createHash('sha256').update(`${head}:${JSON.parse(row.metadata).hash}`).digest('hex');
  }
  return `${position}:${head}`;
}

describe('verifyLog', () => {
  it('an intact log: counts, and a head anyone can recompute from the stored hashes', async () => {
    const { store, db } = await history();
    const result = await verifyLog(store, { batch: 2 });
    expect(result).toMatchObject({ ok: true, events: 6, streams: 2, headPosition: 6, damage: [], damageCount: 0 });
    expect(result.head).toBe(headAt(db, 6));
  });

  it('an empty log is intact, with the genesis head', async () => {
    fixture = tempLedger();
    expect(await verifyLog(fixture.store, { expectHead: `0:${GENESIS_HASH}` })).toMatchObject({ ok: true, events: 0, head: `0:${GENESIS_HASH}` });
  });

  it('an edit whose hash was recomputed breaks the chain at the next revision', async () => {
    const { store, db } = await history();
    db.prepare(`UPDATE events SET data = json_set(data, '$.scopes', json('["admin:*"]')) WHERE position = 3`).run();
    rehash(db, 3);
    const { damage } = await verifyLog(store);
    expect(damage).toEqual([expect.objectContaining({ kind: 'chain_broken', streamId: 'user-alice', revision: 2, position: 4 })]);
  });

  it('a whole stream rewritten consistently passes the chains, but not a head written down before', async () => {
    const { store, db } = await history();
    const before = (await verifyLog(store)).head;
    db.prepare(`UPDATE events SET data = json_set(data, '$.scopes', json('["admin:*"]')) WHERE position = 3`).run();
    rehash(db, 6, rehash(db, 4, rehash(db, 3)));
    expect((await verifyLog(store)).ok).toBe(true);
    const result = await verifyLog(store, { expectHead: before });
    expect(result).toMatchObject({ ok: false, expectedHead: { status: 'mismatch', position: 6 } });
    expect(result.damage[0]).toMatchObject({ kind: 'head_mismatch', position: 6 });
  });

  it('content swapped between two revisions: both named as reordered, nothing else', async () => {
    const { store, db } = await history();
    const [a, b] = db.prepare('SELECT * FROM events WHERE position IN (3, 4) ORDER BY position').all() as Row[];
    const put = db.prepare('UPDATE events SET type = ?, data = ?, metadata = ? WHERE position = ?');
    put.run(b!.type, b!.data, b!.metadata, 3);
    put.run(a!.type, a!.data, a!.metadata, 4);
    const { damage } = await verifyLog(store);
    expect(damage.map((d) => [d.kind, d.revision, d.position])).toEqual([
      ['reordered', 1, 3],
      ['reordered', 2, 4],
    ]);
    expect(damage[0]!.message).toMatch(/holds the event of revision 2/);
  });

  it('an event whose JSON no longer parses is named by position, and the walk goes on', async () => {
    const { store, db } = await history();
    db.prepare(`UPDATE events SET data = '{' || data WHERE position = 2`).run();
    const result = await verifyLog(store, { batch: 4 });
    expect(result.damage[0]).toMatchObject({ kind: 'unreadable', position: 2 });
    expect(result.events).toBe(5);
    expect(result.damage.slice(1)).toEqual([expect.objectContaining({ kind: 'missing', streamId: 'user-bob', revision: 0 })]);
  });

  it('a recorded head is still found when the log grew since, by position or bare hash', async () => {
    const { store, ledger } = await history();
    const before = (await verifyLog(store)).head;
    await ledger.issueToken({ username: 'bob', name: 'later' });
    expect(await verifyLog(store, { expectHead: before })).toMatchObject({ ok: true, expectedHead: { status: 'match', position: 6 } });
    expect(await verifyLog(store, { expectHead: before.split(':')[1]!.toUpperCase() })).toMatchObject({
      ok: true,
      expectedHead: { status: 'match', position: 6 },
    });
  });

  it('names what happened to the event a recorded head was taken at: removed, or cut off with the tail', async () => {
    const { store, db } = await history();
    const [atFive, atSix] = [headAt(db, 5), headAt(db, 6)];
    db.prepare('DELETE FROM events WHERE position = 5').run();
    const removed = await verifyLog(store, { expectHead: atFive });
    expect(removed.expectedHead?.status).toBe('removed');
    expect(removed.damage.at(-1)).toMatchObject({ kind: 'head_mismatch', position: 5 });
    db.prepare('DELETE FROM events WHERE position = 6').run();
    const cut = await verifyLog(store, { expectHead: atSix });
    expect(cut.damage.at(-1)).toMatchObject({ kind: 'truncated', position: 4 });
    expect(cut.damage.at(-1)!.message).toMatch(/recorded head is at position 6, but the log now ends at position 4/);
    expect((await verifyLog(store, { expectHead: atSix.split(':')[1]! })).expectedHead).toMatchObject({ status: 'mismatch', position: null });
  });

  it('caps the findings it lists, not the count', async () => {
    const { store, db } = await history();
    db.prepare(`UPDATE events SET type = type || 'X'`).run();
    const result = await verifyLog(store, { maxFindings: 2 });
    expect(result).toMatchObject({ ok: false, damageCount: 6 });
    expect(result.damage).toHaveLength(2);
  });

  it('rejects a malformed --expect-head', async () => {
    const { store } = await history();
    await expect(verifyLog(store, { expectHead: 'abc' })).rejects.toThrow(/expect-head: "abc" is not a head/);
  });
});

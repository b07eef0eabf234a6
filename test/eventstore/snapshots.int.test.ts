import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../src/eventstore/port.js';
import { PostgresEventStore } from '../../src/eventstore/postgres.js';
import { hasSnapshots, type StoredSnapshot } from '../../src/eventstore/snapshots.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { pgSchemas } from './postgres-fixture.js';

const dirs: string[] = [];
const schemas = pgSchemas('snap');
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await schemas.dropAll();
});

const factories: Record<string, () => Promise<EventStore>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-snap-'));
    dirs.push(dir);
    return new SqliteEventStore(join(dir, 'events.db'));
  },
  postgres: () => PostgresEventStore.open(schemas.url()),
};

const ev = (n: number): NewEvent => ({ type: 'A', data: { n }, metadata: { hash: `h${n}` } });
const snap = (streamId: string, revision: bigint, body = `state@${revision}`): StoredSnapshot => ({
  streamId,
  revision,
  anchor: `h${revision}`,
  schema: 'test/1',
  body,
  checksum: `c${revision}`,
});

describe.each(Object.keys(factories))('snapshot store in the log\'s database: %s', (name) => {
  it('keeps the newest snapshot per stream; an older save does not replace it', async () => {
    const store = await factories[name]!();
    if (!hasSnapshots(store)) throw new Error(`${name} keeps no snapshots`);
    const snapshots = store.snapshotStore();
    expect(await snapshots.load('s-1')).toBeNull();
    await snapshots.save(snap('s-1', 199n));
    await snapshots.save(snap('s-1', 99n));
    expect(await snapshots.load('s-1')).toEqual(snap('s-1', 199n));
    await snapshots.save(snap('s-1', 299n));
    expect((await snapshots.load('s-1'))?.revision).toBe(299n);
    expect(await snapshots.load('s-2')).toBeNull();
    await store.close();
  });

  it('deleteSnapshots removes the state and refuses a snapshot taken before it (a writer that folded before a password change)', async () => {
    const store = await factories[name]!();
    if (!hasSnapshots(store)) throw new Error(`${name} keeps no snapshots`);
    const snapshots = store.snapshotStore();
    await store.append('s-3', Array.from({ length: 6 }, (_, i) => ev(i)), 'no_stream');
    await snapshots.save(snap('s-3', 3n, 'old password hash'));
    await snapshots.deleteSnapshots('s-3');
    expect(await snapshots.load('s-3')).toBeNull();
    // Folded at revision 4, saved after the deletion at revision 5: refused.
    await snapshots.save(snap('s-3', 4n, 'old password hash'));
    expect(await snapshots.load('s-3')).toBeNull();
    // Taken at or after the deletion's revision: kept.
    await snapshots.save(snap('s-3', 5n, 'new password hash'));
    expect((await snapshots.load('s-3'))?.body).toBe('new password hash');
    // Deleting a stream that has none, or does not exist, is no error.
    await snapshots.deleteSnapshots('s-none');
    await store.close();
  });
});

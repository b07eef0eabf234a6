import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendHistory } from '../../bench/rebuild-history.mjs';
import { openDirectoryStore } from '../../src/directory/open.js';
import { DirectoryProjector } from '../../src/directory/projector.js';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import { logBatches } from '../../src/eventstore/log-batches.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { pgSchemas } from '../eventstore/postgres-fixture.js';

/**
 * The SQLite directory's rebuild loads bare tables inside one transaction (indexes and triggers
 * dropped, rows folded in memory per batch, digests sorted in at the end, then the indexes and
 * triggers made again). Its adversaries: a log read that fails half-way, readers on other
 * connections meanwhile, batch boundaries anywhere in a user's history.
 */
const dir = mkdtempSync(join(tmpdir(), 'tl-dir-rebuild-'));
const log = join(dir, 'events.db');
let events: SqliteEventStore;
let head: bigint;

beforeAll(async () => {
  events = new SqliteEventStore(log);
  // 120 users: registered, five tokens each (some scoped, some expiring), rotated three times
  // (some with grace), some deactivated (and activated), one token each revoked.
  await appendHistory(events, { users: 120 });
  head = await events.headPosition();
});
const schemas = pgSchemas('dirrebuild');
afterAll(async () => {
  await schemas.dropAll();
  await events.close();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
const fresh = () => join(dir, `directory-${++files}.db`);

/** Every index and trigger of the directory's file, and its tables: what the rebuild drops and makes again. */
function schemaOf(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();
  } finally {
    db.close();
  }
}

/** The log's batches, failing after `after` of them as a log read might. */
async function* failingAfter(after: number): AsyncGenerator<RecordedEvent[]> {
  let n = 0;
  for await (const batch of logBatches(events, { batch: 97, metadata: false })) {
    if (n++ === after) throw new Error('the log cannot be read');
    yield batch;
  }
}

describe('SQLite directory rebuild', () => {
  it('equals the incremental directory, whatever the rebuild batch size (a user history split anywhere)', async () => {
    const path = fresh();
    const directory = new SqliteDirectory(path);
    try {
      await new DirectoryProjector(events, directory, { batchSize: 50 }).catchUp();
      const incremental = await directory.dump();
      expect(incremental.checkpoint).toBe(head);
      expect(incremental.tokens.some((t) => t.revokedAt !== null)).toBe(true);
      expect(incremental.users.some((u) => !u.active)).toBe(true);
      const schema = schemaOf(path);
      for (const size of [1, 7, 500, 10_000]) {
        await new DirectoryProjector(events, directory, { rebuildBatchSize: size }).rebuild();
        expect(await directory.dump(), `batch ${size}`).toEqual(incremental);
        expect(schemaOf(path), `batch ${size}`).toEqual(schema);
      }
    } finally {
      await directory.close();
    }
  });

  it('a rebuild that fails half-way leaves the directory as it was (rows, checkpoint, indexes, triggers) and the projector goes on', async () => {
    const path = fresh();
    const directory = new SqliteDirectory(path);
    try {
      const projector = new DirectoryProjector(events, directory, { batchSize: 100 });
      await directory.apply(await events.readAll({ limit: 1_500 }));
      const before = await directory.dump();
      const schema = schemaOf(path);
      await expect(directory.rebuild(failingAfter(3))).rejects.toThrow('the log cannot be read');
      expect(await directory.dump()).toEqual(before);
      expect(schemaOf(path)).toEqual(schema);
      // Lists still use their indexes: the list order of a user's tokens is answered.
      const now = new Date(Date.UTC(2030, 0, 2)).toISOString();
      expect((await directory.listTokens({ now, user: 'u1' })).results.length).toBeGreaterThan(0);
      await projector.catchUp();
      const incremental = await directory.dump();
      expect(incremental.checkpoint).toBe(head);
      await projector.rebuild();
      expect(await directory.dump()).toEqual(incremental);
    } finally {
      await directory.close();
    }
  });

  it('other connections read the old directory, by its indexes, until the rebuild commits', async () => {
    const path = fresh();
    const writer = new SqliteDirectory(path);
    const reader = new SqliteDirectory(path);
    try {
      // The old directory: the first 900 events (every user registered, a third of the rotations).
      await writer.apply(await events.readAll({ limit: 900 }));
      const now = new Date(Date.UTC(2030, 0, 2)).toISOString();
      const view = async () => ({
        dump: await reader.dump(),
        users: await reader.listUsers({ search: 'u1', limit: 7 }),
        tokens: await reader.listTokens({ now, user: 'u10', status: 'any' }),
        counts: await reader.counts(now),
      });
      const old = await view();
      let midway: Awaited<ReturnType<typeof view>> | null = null;
      async function* slow(): AsyncGenerator<RecordedEvent[]> {
        let n = 0;
        for await (const batch of logBatches(events, { batch: 200, metadata: false })) {
          yield batch;
          if (++n === 5) midway = await view();
        }
      }
      await writer.rebuild(slow());
      expect(midway).toEqual(old);
      const rebuilt = await view();
      expect(rebuilt.dump.checkpoint).toBe(head);
      expect(old.dump.checkpoint).toBe(900n);
      expect(rebuilt.dump.digests.length).toBeGreaterThan(old.dump.digests.length);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('the incremental projector of the rebuilding process waits (unavailable) instead of writing into the bare tables', async () => {
    const directory = new SqliteDirectory(fresh());
    try {
      let refused: unknown = null;
      async function* probing(): AsyncGenerator<RecordedEvent[]> {
        for await (const batch of logBatches(events, { batch: 500, metadata: false })) {
          yield batch;
          refused ??= await directory.apply(batch).then(() => 'applied', (error: unknown) => error);
        }
      }
      await directory.rebuild(probing());
      expect(refused).toMatchObject({ name: 'DirectoryUnavailableError' });
      expect((await directory.dump()).checkpoint).toBe(head);
    } finally {
      await directory.close();
    }
  });

  it('a catch-up that finds the directory empty and the log long enough rebuilds: the same rows as incremental, then it goes on incrementally', async () => {
    class Counting extends SqliteDirectory {
      rebuilds = 0;
      override rebuild(...args: Parameters<SqliteDirectory['rebuild']>) {
        this.rebuilds += 1;
        return super.rebuild(...args);
      }
    }
    const reference = new SqliteDirectory(fresh());
    const directory = new Counting(fresh());
    const short = new Counting(fresh());
    try {
      await new DirectoryProjector(events, reference, { batchSize: 50 }).catchUp();
      const projector = new DirectoryProjector(events, directory, { batchSize: 50, rebuildFromEmptyAt: Number(head) });
      expect(await projector.catchUp()).toBe(head);
      expect(directory.rebuilds).toBe(1);
      expect(await directory.dump()).toEqual(await reference.dump());
      // Not empty any more: the next catch-ups apply what is new, as always.
      await projector.catchUp();
      expect(directory.rebuilds).toBe(1);
      // A log shorter than the threshold is applied batch by batch.
      await new DirectoryProjector(events, short, { batchSize: 50, rebuildFromEmptyAt: Number(head) + 1 }).catchUp();
      expect(short.rebuilds).toBe(0);
      expect(await short.dump()).toEqual(await reference.dump());
    } finally {
      await Promise.all([reference.close(), directory.close(), short.close()]);
    }
  });
});

describe('PostgreSQL directory rebuild', () => {
  it('equals the incremental directory (side tables too) at any batch size; a failed one changes nothing and leaves token_scopes kept by its trigger; readers see the old rows meanwhile', async () => {
    const url = schemas.url();
    const directory = await openDirectoryStore(url);
    const reader = await openDirectoryStore(url);
    try {
      await directory.apply(await events.readAll({ limit: 900 }));
      const old = await reader.dump();
      let midway: unknown = null;
      async function* slow(): AsyncGenerator<RecordedEvent[]> {
        let n = 0;
        for await (const batch of logBatches(events, { batch: 300, metadata: false })) {
          yield batch;
          if (++n === 3) midway = await reader.dump();
        }
      }
      await directory.rebuild(slow());
      expect(midway).toEqual(old);
      await new DirectoryProjector(events, directory).catchUp();
      const full = await directory.dump();
      expect(full.checkpoint).toBe(head);

      // Incremental from empty, for comparison.
      const other = await openDirectoryStore(schemas.url());
      try {
        await new DirectoryProjector(events, other, { batchSize: 50 }).catchUp();
        expect(await other.dump()).toEqual(full);
      } finally {
        await other.close();
      }
      for (const size of [1, 37, 5_000]) {
        await new DirectoryProjector(events, directory, { rebuildBatchSize: size }).rebuild();
        expect(await directory.dump(), `batch ${size}`).toEqual(full);
      }

      await expect(directory.rebuild(failingAfter(2))).rejects.toThrow('the log cannot be read');
      expect(await directory.dump()).toEqual(full);
      // token_scopes is kept by its trigger again: a scoped token applied now is in it.
      const at = new Date(Date.UTC(2031, 0, 1)).toISOString();
      await directory.apply([
        {
          streamId: 'user-u1',
          revision: 999n,
          position: head + 1n,
          type: 'TokenIssued',
          data: { tokenId: 'f'.repeat(32), name: 'late', kind: 'named', format: 'tl', digest: 'e'.repeat(64), keyPrefix: 'tl_Late0', scopes: ['late:scope'], description: null, expiresAt: null, at },
          metadata: {},
        },
      ]);
      expect(JSON.stringify((await directory.dump()).tokenScopes)).toContain('late:scope');
    } finally {
      await reader.close();
      await directory.close();
    }
  });
});

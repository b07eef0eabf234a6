import type Database from 'better-sqlite3';
import type { SnapshotStore, StoredSnapshot } from './snapshots.js';

/** The table, created by SqliteEventStore's migration (schema version 2). */
export const SQLITE_SNAPSHOTS_DDL = `
  CREATE TABLE IF NOT EXISTS snapshots (
    stream_id TEXT    PRIMARY KEY,
    revision  INTEGER NOT NULL,
    floor     INTEGER NOT NULL DEFAULT -1,
    anchor    TEXT,
    schema    TEXT,
    body      TEXT,
    checksum  TEXT
  );
`;

interface Row {
  revision: bigint;
  anchor: string | null;
  schema: string | null;
  body: string | null;
  checksum: string | null;
}

const DELETE_WAIT_MS = 5_000;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Snapshots in the log's own SQLite file. A deletion leaves a tombstone row (`revision` -1) whose
 * `floor` is the stream's last revision at that moment: a save of an older snapshot, from a writer
 * that folded before the deletion, is refused by the same statement that would write it.
 * `secure_delete` makes SQLite overwrite what a deletion frees.
 */
export class SqliteSnapshotStore implements SnapshotStore {
  private readonly select: Database.Statement<[string], Row>;
  private readonly upsert: Database.Statement<[string, bigint, string, string, string, string]>;
  private readonly tombstone: Database.Statement<[string, string]>;

  constructor(private readonly db: Database.Database) {
    db.pragma('secure_delete = ON');
    this.select = db
      .prepare('SELECT revision, anchor, schema, body, checksum FROM snapshots WHERE stream_id = ? AND revision >= 0')
      .safeIntegers(true) as never;
    this.upsert = db.prepare(`
      INSERT INTO snapshots (stream_id, revision, floor, anchor, schema, body, checksum) VALUES (?, ?, -1, ?, ?, ?, ?)
      ON CONFLICT (stream_id) DO UPDATE SET
        revision = excluded.revision, anchor = excluded.anchor, schema = excluded.schema, body = excluded.body, checksum = excluded.checksum
      WHERE snapshots.revision < excluded.revision AND snapshots.floor <= excluded.revision`);
    this.tombstone = db.prepare(`
      INSERT INTO snapshots (stream_id, revision, floor)
        VALUES (?, -1, coalesce((SELECT max(revision) FROM events WHERE stream_id = ?), -1))
      ON CONFLICT (stream_id) DO UPDATE SET
        revision = -1, floor = max(snapshots.floor, excluded.floor), anchor = NULL, schema = NULL, body = NULL, checksum = NULL`);
  }

  async load(streamId: string): Promise<StoredSnapshot | null> {
    if (!this.db.open) return null;
    const row = this.select.get(streamId);
    if (!row || row.anchor === null || row.schema === null || row.body === null || row.checksum === null) return null;
    return { streamId, revision: row.revision, anchor: row.anchor, schema: row.schema, body: row.body, checksum: row.checksum };
  }

  async save(snapshot: StoredSnapshot): Promise<void> {
    if (!this.db.open) return;
    try {
      this.upsert.run(snapshot.streamId, snapshot.revision, snapshot.anchor, snapshot.schema, snapshot.body, snapshot.checksum);
    } catch (error) {
      // Another process holds the write lock: a cache write is not worth waiting for.
      if (!isBusy(error)) throw error;
    }
  }

  async deleteSnapshots(streamId: string): Promise<void> {
    const deadline = Date.now() + DELETE_WAIT_MS;
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      try {
        this.tombstone.run(streamId, streamId);
        return;
      } catch (error) {
        // Waited for on timers, as appends are: the event loop never sleeps in SQLite.
        if (!isBusy(error) || Date.now() + pause > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}

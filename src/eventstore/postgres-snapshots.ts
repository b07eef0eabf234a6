import type pg from 'pg';
import { q } from './postgres-schema.js';
import type { SnapshotStore, StoredSnapshot } from './snapshots.js';

interface Row {
  revision: string;
  anchor: string | null;
  schema: string | null;
  body: string | null;
  checksum: string | null;
}

/**
 * Snapshots in the log's own PostgreSQL schema (`<schema>.snapshots`, migration 2). Saves and
 * deletions of one stream are upserts of one row, so PostgreSQL serialises them on its primary
 * key: a deletion leaves a tombstone whose `floor` (the stream's last revision then) refuses any
 * older snapshot a concurrent writer tries to save afterwards.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  private readonly sql: Record<'select' | 'upsert' | 'tombstone', string>;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    const s = q(schema);
    this.sql = {
      select: `SELECT revision, anchor, schema, body, checksum FROM ${s}.snapshots WHERE stream_id = $1 AND revision >= 0`,
      upsert: `
        INSERT INTO ${s}.snapshots AS old (stream_id, revision, floor, anchor, schema, body, checksum) VALUES ($1, $2, -1, $3, $4, $5, $6)
        ON CONFLICT (stream_id) DO UPDATE SET
          revision = excluded.revision, anchor = excluded.anchor, schema = excluded.schema, body = excluded.body, checksum = excluded.checksum
        WHERE old.revision < excluded.revision AND old.floor <= excluded.revision`,
      tombstone: `
        INSERT INTO ${s}.snapshots AS old (stream_id, revision, floor)
          VALUES ($1, -1, coalesce((SELECT max(revision) FROM ${s}.events WHERE stream_id = $1), -1))
        ON CONFLICT (stream_id) DO UPDATE SET
          revision = -1, floor = greatest(old.floor, excluded.floor), anchor = NULL, schema = NULL, body = NULL, checksum = NULL`,
    };
  }

  async load(streamId: string): Promise<StoredSnapshot | null> {
    try {
      const row = (await this.pool.query<Row>(this.sql.select, [streamId])).rows[0];
      if (!row || row.anchor === null || row.schema === null || row.body === null || row.checksum === null) return null;
      return { streamId, revision: BigInt(row.revision), anchor: row.anchor, schema: row.schema, body: row.body, checksum: row.checksum };
    } catch {
      return null; // a cache miss: the caller folds the log
    }
  }

  async save(snapshot: StoredSnapshot): Promise<void> {
    await this.pool.query(this.sql.upsert, [
      snapshot.streamId,
      String(snapshot.revision),
      snapshot.anchor,
      snapshot.schema,
      snapshot.body,
      snapshot.checksum,
    ]);
  }

  async deleteSnapshots(streamId: string): Promise<void> {
    await this.pool.query(this.sql.tombstone, [streamId]);
  }
}

/**
 * The snapshot port: a cache of folded stream state beside the log, in the same database. A
 * snapshot is only ever a shortcut: whoever reads one checks it (schema, checksum, and that the
 * log still holds the event it was taken at) and folds the log alone when it does not hold up.
 * One row per stream, the newest.
 */
export interface StoredSnapshot {
  streamId: string;
  /** Revision of the last event folded into `body`. */
  revision: bigint;
  /** The hash (metadata.hash) of the event at `revision`: the log must still hold it. */
  anchor: string;
  /** Which state shape and fold rules `body` was made by; another one is ignored. */
  schema: string;
  /** The state, serialised by its owner. */
  body: string;
  /** Checksum of the fields above, computed by the owner; a mismatch means a damaged row. */
  checksum: string;
}

export interface SnapshotStore {
  /** The stream's snapshot, or null (none, or the store cannot read it: a cache miss). */
  load(streamId: string): Promise<StoredSnapshot | null>;
  /**
   * Keeps `snapshot` unless the stream already has a newer one, or its snapshots were deleted at
   * a later revision than `snapshot.revision` (deleteSnapshots): a writer that folded before a
   * password change cannot bring the old hash back. Best effort: may give up when the database is
   * busy (it is a cache).
   */
  save(snapshot: StoredSnapshot): Promise<void>;
  /**
   * Deletes every snapshot of the stream and refuses, from then on, any snapshot taken before the
   * stream's current last event. The erasure path calls it (snapshots hold opened state,
   * password hashes included); it throws when it could not delete.
   */
  deleteSnapshots(streamId: string): Promise<void>;
}

/** An event store that keeps snapshots in its own database. */
export interface WithSnapshots {
  snapshotStore(): SnapshotStore;
}

export function hasSnapshots(store: object): store is WithSnapshots {
  return typeof (store as Partial<WithSnapshots>).snapshotStore === 'function';
}

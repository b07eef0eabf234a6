import { createHash } from 'node:crypto';
import { USER_STATE_VERSION, type UserState } from '../domain/index.js';
import type { SnapshotStore, StoredSnapshot } from '../eventstore/snapshots.js';

/** A snapshot is taken once this many events were folded on top of the last one (or from the start). */
export const SNAPSHOT_EVERY = 100;

/** The state shape and fold rules a snapshot was made by: another one is ignored. */
export const USER_SNAPSHOT_SCHEMA = `user-state/${USER_STATE_VERSION}`;

/**
 * Events whose state a snapshot must not outlive: a password hash replaced (the old one must be
 * gone from every copy), a user erased.
 */
const SHREDDING_EVENTS = new Set(['UserPasswordSet', 'UserPasswordRehashed', 'UserDeleted']);

export function shredsSnapshots(events: ReadonlyArray<{ type: string }>): boolean {
  return events.some((event) => SHREDDING_EVENTS.has(event.type));
}

function checksumOf(s: Omit<StoredSnapshot, 'checksum'>): string {
  return createHash('sha256').update(JSON.stringify([s.streamId, String(s.revision), s.anchor, s.schema, s.body])).digest('base64url');
}

export function encodeSnapshot(streamId: string, revision: bigint, anchor: string, state: UserState): StoredSnapshot {
  const fields = { streamId, revision, anchor, schema: USER_SNAPSHOT_SCHEMA, body: JSON.stringify(state) };
  return { ...fields, checksum: checksumOf(fields) };
}

/** The state a stored snapshot holds, or null when it is of another schema, damaged or not a user's state. */
export function decodeSnapshot(snapshot: StoredSnapshot, streamId: string): UserState | null {
  if (snapshot.streamId !== streamId || snapshot.schema !== USER_SNAPSHOT_SCHEMA) return null;
  if (snapshot.checksum !== checksumOf(snapshot)) return null;
  try {
    const state = JSON.parse(snapshot.body) as UserState;
    if (state === null || typeof state !== 'object') return null;
    // A deleted user's state says so: without `deleted` it would read as a name never used, free to register again.
    if (state.exists === false) return state.deleted === true ? { exists: false, deleted: true } : { exists: false };
    if (state.exists !== true || typeof state.tokens !== 'object' || state.tokens === null || !Array.isArray(state.recentLogins)) return null;
    return state;
  } catch {
    return null;
  }
}

/** Loads a snapshot as a cache: any failure to read one is a miss, never an error. */
export async function loadSnapshot(store: SnapshotStore, streamId: string): Promise<{ revision: bigint; anchor: string; state: UserState } | null> {
  let stored: StoredSnapshot | null;
  try {
    stored = await store.load(streamId);
  } catch {
    return null;
  }
  if (stored === null) return null;
  const state = decodeSnapshot(stored, streamId);
  return state === null ? null : { revision: stored.revision, anchor: stored.anchor, state };
}

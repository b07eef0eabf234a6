import { usernameOfStream } from '../src/domain/index.js';
import type { RecordedEvent } from '../src/eventstore/port.js';
import { projectEvent, type RecordChanges, type UserDoc } from './token-records.js';

/** What a batch of events does to one user: their document and records, from `base` to `doc.position`. */
export interface UserChange {
  username: string;
  /** The document position the change was computed from (0: no document). */
  base: number;
  doc: UserDoc;
  records: RecordChanges;
}

/** The usernames whose documents a batch needs, in first-seen order. */
export function usersOf(events: readonly RecordedEvent[]): string[] {
  const names = new Set<string>();
  for (const event of events) {
    const username = usernameOfStream(event.streamId);
    if (username !== null) names.add(username);
  }
  return [...names];
}

/**
 * Folds a batch of events (in log order) over the current documents of their users. Pure: the
 * caller loads `docs` (missing or null = no document) and writes the result. Users whose document
 * the batch does not change (everything already applied) are left out, so re-applying is free.
 */
export function foldBatch(docs: ReadonlyMap<string, UserDoc | null>, events: readonly RecordedEvent[]): Map<string, UserChange> {
  const result = new Map<string, UserChange>();
  for (const event of events) {
    const username = usernameOfStream(event.streamId);
    if (username === null) continue;
    const known = result.get(username);
    const before = known ? known.doc : (docs.get(username) ?? null);
    const records: RecordChanges = known?.records ?? new Map();
    const after = projectEvent(before, event, records);
    if (after === null || after === before) continue;
    if (known) known.doc = after;
    else result.set(username, { username, base: before?.position ?? 0, doc: after, records });
  }
  return result;
}

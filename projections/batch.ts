import { streamKeyOf } from '../src/domain/index.js';
import type { RecordedEvent } from '../src/eventstore/port.js';
import { DocFold, type RecordChanges, type UserDoc } from './token-records.js';

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
    const username = streamKeyOf(event.streamId);
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
  const folds = new Map<string, { fold: DocFold; base: number; records: RecordChanges; changed: boolean }>();
  for (const event of events) {
    const username = streamKeyOf(event.streamId);
    if (username === null) continue;
    let user = folds.get(username);
    if (!user) {
      const before = docs.get(username) ?? null;
      user = { fold: new DocFold(before), base: before?.position ?? 0, records: new Map(), changed: false };
      folds.set(username, user);
    }
    if (user.fold.apply(event, user.records)) user.changed = true;
  }
  const result = new Map<string, UserChange>();
  for (const [username, { fold, base, records, changed }] of folds) {
    if (changed && fold.current !== null) result.set(username, { username, base, doc: fold.current, records });
  }
  return result;
}

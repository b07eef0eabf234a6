import { foldBatch, usersOf } from '../../../projections/batch.js';
import { positionOf, storageExpiry, type StoredRecord, type UserDoc } from '../../../projections/token-records.js';
import type { RecordedEvent } from '../../eventstore/port.js';
import { ProjectionGapError } from '../port.js';
import { execChecked, type ProjectionRedis } from './client.js';
import { decodeDoc, encodeDoc, encodeRecord } from './codec.js';

/**
 * Key layout, relative to the configured prefix. A generation is one complete projection;
 * `gen` names the live one, so a rebuild builds a new generation beside it and switches.
 */
export const keys = {
  live: 'gen',
  counter: 'gen:next',
  generations: 'gens',
  checkpoint: (gen: string) => `g${gen}:checkpoint`,
  lease: (gen: string) => `g${gen}:lease`,
  /** A user's document, by stream key (the username for streams from before sealing). */
  doc: (gen: string, streamKey: string) => `g${gen}:u:${streamKey}`,
  record: (gen: string, digest: string) => `g${gen}:t:${digest}`,
};

/** A record's value and Redis expiry (PXAT, see storageExpiry), or '' for a deletion. */
export function recordArgs(record: StoredRecord | null): [string, string] {
  if (record === null) return ['', '0'];
  const expiry = storageExpiry(record);
  return [encodeRecord(record), expiry === null ? '0' : String(expiry)];
}

export type ApplyReply = 'OK' | 'GEN' | 'CONFLICT';

/**
 * One attempt to apply `events` (read after `after`) to generation `gen`: read the checkpoint
 * and the documents of the users involved (one round trip), fold (pure), write everything in one
 * script call. `live`: the generation must still be the live one when the script runs.
 */
export async function applyOnce(redis: ProjectionRedis, gen: string, live: boolean, events: RecordedEvent[], after?: bigint): Promise<ApplyReply> {
  const users = usersOf(events);
  const read = redis.pipeline().get(keys.checkpoint(gen));
  if (users.length > 0) read.mget(...users.map((u) => keys.doc(gen, u)));
  const [stored, docsStored = []] = (await execChecked(read)) as [string | null, (string | null)[]?];
  const checkpoint = BigInt(stored ?? 0);
  if (after !== undefined && checkpoint < after) throw new ProjectionGapError(checkpoint, after);
  const fresh = events.filter((event) => event.position > checkpoint);
  if (fresh.length === 0) return 'OK';
  const docs = new Map<string, UserDoc | null>(users.map((u, i) => [u, docsStored[i] ? decodeDoc(docsStored[i]) : null]));
  const changes = foldBatch(docs, fresh);
  const keyList = [keys.live, keys.checkpoint(gen)];
  const args: string[] = [live ? gen : '*', String(after ?? -1n), String(positionOf(fresh.at(-1)!)), String(changes.size)];
  for (const change of changes.values()) {
    keyList.push(keys.doc(gen, change.username));
    args.push(String(change.base), String(change.doc.position), encodeDoc(change.doc), String(change.records.size));
    for (const [digest, record] of change.records) {
      keyList.push(keys.record(gen, digest));
      args.push(...recordArgs(record));
    }
  }
  const reply = await redis.tlApply(keyList.length, ...keyList, ...args);
  // The checkpoint moved back between our read and the write: reset meanwhile.
  if (reply === 'GAP') throw new ProjectionGapError(BigInt((await redis.get(keys.checkpoint(gen))) ?? 0), after ?? 0n);
  return reply as ApplyReply;
}

/** Applies until it sticks: conflicts mean another projector got there first, so fold again. */
export async function applyWithRetry(attempt: () => Promise<ApplyReply>): Promise<void> {
  for (let tries = 1; ; tries++) {
    if ((await attempt()) === 'OK') return;
    if (tries >= 100) throw new Error('projection write kept conflicting with other writers');
  }
}

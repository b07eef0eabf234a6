import type { EventStore } from '../eventstore/port.js';
import { ProjectionGapError, type ProjectionStore } from './port.js';

/** What catching up needs of a projection (or of a rebuild in progress). */
export type CatchUpTarget = Pick<ProjectionStore, 'checkpoint' | 'apply'>;

/**
 * Applies the log from the target's checkpoint up to `until` (default: the head). If the target
 * was reset meanwhile (cleared, or Redis lost its data), it starts again from the new checkpoint.
 */
export async function catchUp(events: EventStore, target: CatchUpTarget, batchSize: number, until?: bigint): Promise<bigint> {
  let checkpoint = await target.checkpoint();
  while (until === undefined || checkpoint < until) {
    const batch = await events.readAll({ after: checkpoint, limit: batchSize, metadata: false });
    if (batch.length === 0) break;
    try {
      await target.apply(batch, checkpoint);
    } catch (error) {
      if (!(error instanceof ProjectionGapError)) throw error;
      checkpoint = error.checkpoint;
      continue;
    }
    checkpoint = batch.at(-1)!.position;
    if (until === undefined && batch.length < batchSize) break;
  }
  return checkpoint;
}

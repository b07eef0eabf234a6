import { logBatches } from '../eventstore/log-batches.js';
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
  for (let reset = true; reset; ) {
    reset = false;
    for await (const batch of logBatches(events, { after: checkpoint, batch: batchSize, metadata: false, passwords: false, subjects: false, end: until ?? 'short' })) {
      try {
        await target.apply(batch, checkpoint);
      } catch (error) {
        if (!(error instanceof ProjectionGapError)) throw error;
        checkpoint = error.checkpoint;
        reset = true;
        break;
      }
      checkpoint = batch.at(-1)!.position;
    }
  }
  return checkpoint;
}

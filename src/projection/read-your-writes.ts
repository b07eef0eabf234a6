import type { EventStore } from '../eventstore/port.js';
import type { ProjectionRuntime, ProjectionSettings } from './open.js';
import { ProjectionUnavailableError } from './port.js';

/** How a ledger keeps its promise that a write is visible once the call returns. */
export interface ReadYourWrites {
  afterAppend(position: bigint): Promise<void>;
  close(): Promise<void>;
}

/**
 * With a projection runtime (a server's), its projector catches up to the write. Without one:
 * Redis is caught up by this very process, connected on its first write only (so commands
 * that only read the log work while Redis is down); with the memory projection there is nothing
 * here to update, since each server's projector polls the log.
 */
export function readYourWrites(settings: ProjectionSettings, events: EventStore, runtime?: ProjectionRuntime): ReadYourWrites {
  if (runtime) return { afterAppend: async (position) => void (await runtime.projector.catchUp(position)), close: async () => {} };
  if (settings.redisUrl === null) return { afterAppend: async () => {}, close: async () => {} };
  let opened: Promise<ProjectionRuntime> | undefined;
  return {
    async afterAppend(position) {
      opened ??= import('./open.js').then(({ openProjection }) => openProjection(settings, { events }));
      try {
        await (await opened).projector.catchUp(position);
      } catch (error) {
        if (!(error instanceof ProjectionUnavailableError)) throw error;
        throw new ProjectionUnavailableError(
          `${error.message}; the change is recorded in the log and reaches the projection as soon as a projector can write to Redis`,
        );
      }
    },
    async close() {
      const runtime = await opened?.catch(() => undefined);
      await runtime?.close();
    },
  };
}

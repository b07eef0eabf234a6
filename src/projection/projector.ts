import { LogFollower } from '../eventstore/follower.js';
import type { EventStore } from '../eventstore/port.js';
import { catchUp } from './catch-up.js';
import type { ProjectionStore } from './port.js';
import { rebuildProjection } from './rebuild.js';

export interface ProjectorOptions {
  /** Events per read and per atomic write. Default 1,000. */
  batchSize?: number;
  /**
   * How often a following projector asks the log for new events (stores without push, i.e.
   * SQLite). Default 25 ms: a server on the memory projection sees another process's append well
   * within the 250 ms it promises, and a Redis projector follows the log within its goal
   * (bench/README.md); one indexed query per tick costs next to nothing.
   */
  pollMs?: number;
  /** A failed round (Redis or the store down); the projector retries with backoff up to 2 s. */
  onError?: (error: unknown) => void;
  /** The first successful round after failures. */
  onRecovered?: () => void;
}

export interface ProjectionStatus {
  backend: 'redis' | 'memory';
  checkpoint: bigint;
  head: bigint;
  lag: bigint;
}

/**
 * Moves a projection along the log: `catchUp` applies what is missing (any number of projectors
 * may do so at once, the store's atomic writes make that harmless), `start` keeps following.
 */
export class Projector {
  private readonly batchSize: number;
  private readonly follower: LogFollower;

  constructor(
    readonly events: EventStore,
    readonly projection: ProjectionStore,
    options: ProjectorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1_000;
    this.follower = new LogFollower(events, () => this.run(), options);
  }

  /**
   * Applies the log at least up to `until` (default: its head) and returns the checkpoint
   * reached; callers in one process share one run (LogFollower).
   */
  catchUp(until?: bigint): Promise<bigint> {
    return this.follower.catchUp(until);
  }

  /** An empty Redis (new, or restarted without its data) is rebuilt, answering 503 meanwhile. */
  private async run(): Promise<bigint> {
    if (await this.projection.isEmpty()) await rebuildProjection(this.events, this.projection);
    return catchUp(this.events, this.projection, this.batchSize);
  }

  /** Follows the log until `stop`. Errors never end the loop: Redis may come back. */
  start(): void {
    this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  async status(): Promise<ProjectionStatus> {
    const [checkpoint, head] = await Promise.all([this.projection.checkpoint(), this.events.headPosition()]);
    return { backend: this.projection.backend, checkpoint, head, lag: head > checkpoint ? head - checkpoint : 0n };
  }
}

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
  private readonly pollMs: number;
  private loop: Promise<void> | null = null;
  private running: Promise<bigint> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** Set by a push that arrived while catching up, so the next sleep is skipped. */
  private nudged = false;

  constructor(
    readonly events: EventStore,
    readonly projection: ProjectionStore,
    private readonly options: ProjectorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1_000;
    this.pollMs = options.pollMs ?? 25;
  }

  /**
   * Applies the log at least up to `until` (default: its head) and returns the checkpoint
   * reached. Callers in one process share one run to the head (a server's follow loop and its
   * requests waiting for their writes), instead of racing each other for the same events.
   */
  async catchUp(until?: bigint): Promise<bigint> {
    for (let last = -1n; ; ) {
      const joined = this.running !== null;
      this.running ??= this.run().finally(() => {
        this.running = null;
      });
      const reached = await this.running;
      // A run that started before our call may have missed what we wait for: then run again.
      if (until !== undefined ? reached >= until : !joined) return reached;
      // Waiting for a position the log does not show yet (a store whose commits become visible
      // out of order): do not spin.
      if (reached === last) await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      last = reached;
    }
  }

  /** An empty Redis (new, or restarted without its data) is rebuilt, answering 503 meanwhile. */
  private async run(): Promise<bigint> {
    if (await this.projection.isEmpty()) await rebuildProjection(this.events, this.projection);
    return catchUp(this.events, this.projection, this.batchSize);
  }

  /** Follows the log until `stop`. Errors never end the loop: Redis may come back. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.follow();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  async status(): Promise<ProjectionStatus> {
    const [checkpoint, head] = await Promise.all([this.projection.checkpoint(), this.events.headPosition()]);
    return { backend: this.projection.backend, checkpoint, head, lag: head > checkpoint ? head - checkpoint : 0n };
  }

  private async follow(): Promise<void> {
    let failures = 0;
    // A store that can push (PostgreSQL LISTEN) cuts the wait short; polling stays the fallback.
    const unsubscribe = this.events.subscribe?.(() => {
      this.nudged = true;
      this.wake?.();
    });
    while (!this.stopping) {
      try {
        await this.catchUp();
        if (failures > 0) this.options.onRecovered?.();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.options.onError?.(error);
      }
      await this.sleep(failures === 0 ? this.pollMs : Math.min(this.pollMs * 2 ** failures, 2_000));
    }
    unsubscribe?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || this.nudged) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        this.nudged = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

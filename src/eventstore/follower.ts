import type { EventStore } from './port.js';

export interface LogFollowerOptions {
  /**
   * How often a following loop asks the log for new events when the store cannot push (SQLite).
   * Default 25 ms: one indexed query per tick costs next to nothing.
   */
  pollMs?: number;
  /** A failed round (the read model's store or the log down); the loop retries with backoff up to 2 s. */
  onError?: (error: unknown) => void;
  /** The first successful round after failures. */
  onRecovered?: () => void;
}

/**
 * The loop every read model's projector moves along the log with (the lookup projection's and
 * the directory's): `run` applies what is missing and returns the checkpoint reached; `catchUp`
 * shares one run among the callers of a process, `start` keeps running it until `stop`, woken by
 * the store's pushes (PostgreSQL LISTEN) or every `pollMs`, with backoff after failures.
 */
export class LogFollower {
  private readonly pollMs: number;
  private loop: Promise<void> | null = null;
  private running: Promise<bigint> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** Set by a push that arrived while catching up, so the next sleep is skipped. */
  private nudged = false;

  constructor(
    private readonly events: Pick<EventStore, 'subscribe'>,
    private readonly run: () => Promise<bigint>,
    private readonly options: LogFollowerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 25;
  }

  /**
   * Runs at least up to `until` (default: the log's head) and returns the checkpoint reached.
   * Callers in one process share one run to the head (a server's follow loop and its requests
   * waiting for their writes), instead of racing each other for the same events.
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

  /** Follows the log until `stop`. Errors never end the loop: the store may come back. */
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

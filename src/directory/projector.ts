import { logBatches } from '../eventstore/log-batches.js';
import type { EventStore } from '../eventstore/port.js';
import { DirectoryGapError, type DirectoryStore } from './port.js';

export interface DirectoryProjectorOptions {
  /** Events per read and per transaction. Default 2,000. */
  batchSize?: number;
  /** Events per read of a rebuild. Default 2,000 (larger reads outgrow V8's young generation and are slower). */
  rebuildBatchSize?: number;
  /** How often a following projector asks the log for new events when it cannot push. Default 25 ms. */
  pollMs?: number;
  onError?: (error: unknown) => void;
  onRecovered?: () => void;
}

export interface DirectoryStatus {
  backend: 'sqlite' | 'postgres';
  where: string;
  checkpoint: bigint;
  head: bigint;
  lag: bigint;
}

/**
 * Moves the directory along the log, as the lookup projection's projector moves it: `catchUp`
 * applies what is missing (several projectors at once are harmless: each batch checks the
 * checkpoint inside its transaction), `start` keeps following until `stop`.
 */
export class DirectoryProjector {
  private readonly batchSize: number;
  private readonly pollMs: number;
  private running: Promise<bigint> | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  private nudged = false;

  constructor(
    readonly events: EventStore,
    readonly directory: DirectoryStore,
    private readonly options: DirectoryProjectorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 2_000;
    this.pollMs = options.pollMs ?? 25;
  }

  /** Applies the log at least up to `until` (default: its head); returns the checkpoint reached. */
  async catchUp(until?: bigint): Promise<bigint> {
    for (let last = -1n; ; ) {
      const joined = this.running !== null;
      this.running ??= this.run().finally(() => {
        this.running = null;
      });
      const reached = await this.running;
      if (until !== undefined ? reached >= until : !joined) return reached;
      if (reached === last) await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      last = reached;
    }
  }

  private async run(): Promise<bigint> {
    let checkpoint = await this.directory.checkpoint();
    for (let reset = true; reset; ) {
      reset = false;
      for await (const batch of logBatches(this.events, { after: checkpoint, batch: this.batchSize, metadata: false, passwords: false, end: 'short' })) {
        try {
          await this.directory.apply(batch, checkpoint);
        } catch (error) {
          if (!(error instanceof DirectoryGapError)) throw error;
          checkpoint = error.checkpoint;
          reset = true;
          break;
        }
        checkpoint = batch.at(-1)!.position;
      }
    }
    return checkpoint;
  }

  /**
   * Replaces the directory with a fold of the whole log, then applies what was appended meanwhile.
   * Readers see the old directory until the new one is complete.
   */
  async rebuild(onProgress?: (events: number) => void): Promise<{ events: number; checkpoint: bigint }> {
    const batches = logBatches(this.events, { batch: this.options.rebuildBatchSize ?? 2_000, metadata: false, passwords: false, end: 'empty' });
    const result = await this.directory.rebuild(batches, onProgress);
    await this.catchUp();
    return result;
  }

  async status(): Promise<DirectoryStatus> {
    const [checkpoint, head] = await Promise.all([this.directory.checkpoint(), this.events.headPosition()]);
    return { backend: this.directory.backend, where: this.directory.where, checkpoint, head, lag: head > checkpoint ? head - checkpoint : 0n };
  }

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

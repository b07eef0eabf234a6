import { LogFollower } from '../eventstore/follower.js';
import { logBatches } from '../eventstore/log-batches.js';
import type { EventStore } from '../eventstore/port.js';
import { DirectoryGapError, type DirectoryStore } from './port.js';

export interface DirectoryProjectorOptions {
  /** Events per read and per transaction. Default 5,000. */
  batchSize?: number;
  /** Events per read of a rebuild. Default 2,000 (larger reads outgrow V8's young generation and are slower). */
  rebuildBatchSize?: number;
  /**
   * A catch-up that finds the directory empty (checkpoint 0) and the log at least this long
   * rebuilds instead: the rebuild's bulk load makes the same rows for a fraction of the work (a
   * new directory beside a long log, the end of a large import). Default 20,000 events.
   */
  rebuildFromEmptyAt?: number;
  /**
   * How often a following projector asks the log for new events when it cannot push. Default
   * 100 ms: lists need not follow other processes' writes within milliseconds (a process's own
   * writes wait for the directory: read-your-writes), and the more events one transaction applies
   * the less each costs (a new user: ~17 µs in transactions of ~900, ~14 µs in ~3,500; SQLite,
   * bench:queries' appends).
   */
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
  private readonly follower: LogFollower;

  constructor(
    readonly events: EventStore,
    readonly directory: DirectoryStore,
    private readonly options: DirectoryProjectorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 5_000;
    this.follower = new LogFollower(events, () => this.run(), { ...options, pollMs: options.pollMs ?? 100 });
  }

  /** Applies the log at least up to `until` (default: its head); returns the checkpoint reached (LogFollower). */
  catchUp(until?: bigint): Promise<bigint> {
    return this.follower.catchUp(until);
  }

  private async run(): Promise<bigint> {
    let checkpoint = await this.directory.checkpoint();
    if (checkpoint === 0n && (await this.events.headPosition()) >= BigInt(this.options.rebuildFromEmptyAt ?? 20_000)) {
      checkpoint = (await this.directory.rebuild(this.rebuildBatches('short'))).checkpoint;
    }
    for (let reset = true; reset; ) {
      reset = false;
      for await (const batch of logBatches(this.events, { after: checkpoint, batch: this.batchSize, metadata: false, passwords: false, subjects: false, end: 'short' })) {
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
    const result = await this.directory.rebuild(this.rebuildBatches('empty'), onProgress);
    await this.catchUp();
    return result;
  }

  private rebuildBatches(end: 'short' | 'empty') {
    return logBatches(this.events, { batch: this.options.rebuildBatchSize ?? 2_000, metadata: false, passwords: false, subjects: false, end });
  }

  async status(): Promise<DirectoryStatus> {
    const [checkpoint, head] = await Promise.all([this.directory.checkpoint(), this.events.headPosition()]);
    return { backend: this.directory.backend, where: this.directory.where, checkpoint, head, lag: head > checkpoint ? head - checkpoint : 0n };
  }

  start(): void {
    this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}

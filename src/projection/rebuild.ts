import { DocFold, type RecordChanges, type UserDoc } from '../../projections/token-records.js';
import { streamKeyOf } from '../domain/events.js';
import { logBatches } from '../eventstore/log-batches.js';
import type { EventStore, RecordedEvent } from '../eventstore/port.js';
import type { ProjectionBuild, ProjectionStore } from './port.js';
import { catchUp } from './catch-up.js';

export interface RebuildProgress {
  phase: 'replay' | 'catch-up' | 'switch';
  /** Events replayed so far, of about `total` (the head when the rebuild started). */
  events: number;
  total: number;
  eventsPerSecond: number;
  /** Estimated time left in the replay, or null before there is a rate to go by. */
  etaMs: number | null;
}

export interface RebuildResult {
  events: number;
  checkpoint: bigint;
  elapsedMs: number;
  eventsPerSecond: number;
}

export interface RebuildOptions {
  /** Events per read from the log. Default 2,000: larger reads outgrow V8's young generation and are slower. */
  readBatch?: number;
  /** Pending documents and records that trigger a write to the new projection. Default 100,000. */
  flushEvery?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Milliseconds; injectable so tests can check the rate arithmetic. */
  clock?: () => number;
}

/**
 * The replay's state in process memory: every user's document, and what changed since the last
 * flush. Deletions of records the build never received are dropped: the build starts empty.
 */
class Replay {
  /** One fold per user for the whole replay: each document is copied once, not once per event. */
  private readonly folds = new Map<string, DocFold>();
  private dirty = new Set<string>();
  private pending: RecordChanges = new Map();
  private readonly written = new Set<string>();

  get size(): number {
    return this.dirty.size + this.pending.size;
  }

  /** The same pure step as incremental updates, without foldBatch's per-batch bookkeeping. */
  fold(batch: RecordedEvent[]): void {
    for (const event of batch) {
      const key = streamKeyOf(event.streamId);
      if (key === null) continue;
      let fold = this.folds.get(key);
      if (!fold) this.folds.set(key, (fold = new DocFold(null)));
      if (fold.apply(event, this.pending) && fold.current !== null) this.dirty.add(key);
    }
  }

  /** What to write now: the latest documents and record changes since the last call. */
  take(): { docs: Map<string, UserDoc>; records: RecordChanges } {
    const records: RecordChanges = new Map();
    for (const [digest, record] of this.pending) {
      if (record !== null) this.written.add(digest);
      else if (!this.written.delete(digest)) continue;
      records.set(digest, record);
    }
    // Encoded by the caller before the replay folds on (build.write reads them synchronously).
    // Copies, since the folds change their documents in place as the replay goes on.
    const docs = new Map(
      [...this.dirty].map((key) => {
        const doc = this.folds.get(key)!.current!;
        return [key, { ...doc, tokens: { ...doc.tokens } }] as const;
      }),
    );
    this.dirty = new Set();
    this.pending = new Map();
    return { docs, records };
  }
}

/**
 * Replays the whole log into a new projection beside the live one, catches it up with what was
 * appended meanwhile and switches atomically: tokens that stay valid never stop working.
 * The replay folds in process memory and writes only the latest state of each document and
 * record per flush, so most of the log never becomes a Redis command.
 */
export async function rebuildProjection(events: EventStore, projection: ProjectionStore, options: RebuildOptions = {}): Promise<RebuildResult> {
  const { readBatch = 2_000, flushEvery = 100_000, onProgress, clock = Date.now } = options;
  const started = clock();
  const total = Number(await events.headPosition());
  const build = await projection.beginRebuild();
  let count = 0;
  const report = (phase: RebuildProgress['phase']) => {
    if (!onProgress) return;
    const rate = count / (Math.max(clock() - started, 1) / 1_000);
    const etaMs = rate > 0 ? (Math.max(total - count, 0) / rate) * 1_000 : null;
    onProgress({ phase, events: count, total: Math.max(total, count), eventsPerSecond: Math.round(rate), etaMs });
  };
  try {
    const replay = new Replay();
    let writing: Promise<void> = Promise.resolve();
    let after = 0n;
    // One write in flight while the next batches are read and folded.
    const flush = async () => {
      await writing;
      const { docs, records } = replay.take();
      writing = build.write(docs, records, after);
      writing.catch(() => {}); // awaited at the next flush; not unhandled meanwhile
    };
    for await (const batch of logBatches(events, { batch: readBatch, metadata: false, passwords: false, subjects: false, end: 'empty' })) {
      replay.fold(batch);
      after = batch.at(-1)!.position;
      count += batch.length;
      if (replay.size >= flushEvery) await flush();
      report('replay');
      // Reading a synchronous store never yields to the event loop: let the socket carry the
      // write in flight while we read on, instead of all at once at the next flush.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flush();
    await writing;
    report('catch-up');
    await switchWhenCaughtUp(events, build);
    report('switch');
    const elapsedMs = clock() - started;
    return { events: count, checkpoint: await projection.checkpoint(), elapsedMs, eventsPerSecond: Math.round((count * 1_000) / Math.max(elapsedMs, 1)) };
  } catch (error) {
    await build.abort().catch(() => {});
    throw error;
  }
}

/** Events appended during the replay go into the build too; the switch waits until it is not behind. */
async function switchWhenCaughtUp(events: EventStore, build: ProjectionBuild): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await catchUp(events, build, 1_000);
    if (await build.commit()) return;
    if (attempt >= 100) throw new Error('the rebuilt projection could not catch up with the live one');
  }
}

import { Command } from './ioredis.js';
import type { StoredRecord, UserDoc } from '../../../projections/token-records.js';
import type { LookupCallback, TokenRecord } from '../../domain/record.js';
import type { RecordedEvent } from '../../eventstore/port.js';
import { ProjectionUnavailableError, type ProjectionBuild, type ProjectionDump, type ProjectionStore } from '../port.js';
import { applyOnce, applyWithRetry, keys } from './apply.js';
import { LookupBatcher, type BatchAnswer } from '../lookup-batch.js';
import { DecodedValues } from './decoded-values.js';
import { beginRedisBuild, dropGeneration, scanGeneration } from './build.js';
import { closeRedis, connectRedis, execChecked, redisTarget, unavailable, type ProjectionRedis } from './client.js';
import { decodeDoc, decodeRecord } from './codec.js';

export interface RedisProjectionOptions {
  url: string;
  /** Prefix of every key (TOKENLEDGER_REDIS_PREFIX). */
  prefix: string;
  /** Bound on one lookup: past it the request fails closed (503). Default 250 ms. */
  lookupTimeoutMs?: number;
  /** Bound on one projector write or read. Default 10 s (a rebuild pipelines large batches). */
  writeTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * The projection in Redis. Two connections: lookups never queue behind a projector's batch
 * (one socket answers in order), and each has its own time bound.
 */
export class RedisProjectionStore implements ProjectionStore {
  readonly backend = 'redis';
  /** The live generation as last seen (null: none); every lookup checks it in the same MGET. */
  private generation: string | null = null;
  /**
   * The furthest checkpoint this process has seen the projection at (in a lookup, or applied by
   * its projector). A live checkpoint behind it means Redis went back in time (restored from an
   * older snapshot, a lagging replica promoted): its records may accept keys the log has revoked
   * since, so lookups fail closed until a projector has brought it back this far (review L1).
   */
  private seen = 0;

  private constructor(
    private readonly reader: ProjectionRedis,
    private readonly writer: ProjectionRedis,
    private readonly target: string,
    private readonly prefix: string,
  ) {}

  static async open(options: RedisProjectionOptions): Promise<RedisProjectionStore> {
    const common = { url: options.url, prefix: options.prefix, connectTimeoutMs: options.connectTimeoutMs ?? 1_000 };
    const writer = await connectRedis({ ...common, commandTimeoutMs: options.writeTimeoutMs ?? 10_000, name: 'tokenledger-projector' });
    try {
      const reader = await connectRedis({ ...common, commandTimeoutMs: options.lookupTimeoutMs ?? 250, name: 'tokenledger-lookup' });
      const store = new RedisProjectionStore(reader, writer, redisTarget(options.url), options.prefix);
      store.generation = await store.liveGeneration();
      return store;
    } catch (error) {
      await closeRedis(writer);
      throw error;
    }
  }

  /**
   * One read, batched (see LookupBatcher): the lookups of one turn of the event loop go to Redis
   * as one MGET, the live-generation pointer in front. The MGET's time bound is the lookup's.
   */
  lookup(digest: string): Promise<TokenRecord | null> {
    return this.lookups.lookup(digest);
  }

  /** `lookup` answered through a callback, without a promise (what the middleware uses). */
  lookupWith(digest: string, callback: LookupCallback): void {
    this.lookups.lookupWith(digest, callback);
  }

  private readonly lookups = new LookupBatcher((digests) => this.read(digests));
  private readonly decoded = new DecodedValues();

  /**
   * The records of `digests` from the live generation (a corrupt value fails only its own lookup).
   * A digest asked for several times in one batch (one key behind concurrent requests) is read
   * once: every one of those lookups was asked before the MGET went out, so each still gets what
   * Redis holds after it was asked.
   */
  private async read(digests: string[]): Promise<BatchAnswer[]> {
    const { distinct, slots } = distinctOf(digests);
    for (let attempt = 0; attempt < 3; attempt++) {
      const gen = this.generation ?? '';
      // Whole key names, sent as they are: the client's own prefixing would copy every name again.
      const names = new Array<string>(distinct.length + 2);
      names[0] = this.prefix + keys.live;
      names[1] = this.prefix + keys.checkpoint(gen);
      const recordPrefix = this.prefix + keys.record(gen, '');
      for (let i = 0; i < distinct.length; i++) names[i + 2] = recordPrefix + distinct[i]!;
      // The floor is what this process had seen when the MGET went out: an apply of ours that
      // returns while the MGET is in flight may have run in Redis after it, and its reply can be
      // handled first (two sockets), so the MGET's older checkpoint is no sign of a stale Redis.
      const floor = this.seen;
      let reply: (Buffer | null)[];
      try {
        // Our own Command rather than redis.mget: values come back as bytes (most are compared
        // with the ones seen before, not decoded again) and names go out unprefixed. Both are
        // ioredis behaviour past its command methods: test/projection/redis/ioredis.int.test.ts.
        const mget = new Command('mget', names);
        reply = (await this.reader.sendCommand(mget)) as (Buffer | null)[];
      } catch (error) {
        throw unavailable(error, this.target, 'answer a lookup');
      }
      // No projection at all: a new Redis, or one that restarted without its data. "Not found"
      // would be a lie (a misleading 401); it stays unavailable until a projector has rebuilt it.
      const pointer = reply[0];
      if (pointer == null) throw this.empty();
      const live = pointer.toString('latin1');
      if (live !== gen) {
        // A rebuild switched generations since our last lookup: read again from the new one.
        this.generation = live;
        continue;
      }
      const checkpoint = reply[1] == null ? 0 : Number(reply[1].toString('latin1'));
      if (checkpoint < floor) throw this.behind(checkpoint, floor);
      if (checkpoint > this.seen) this.seen = checkpoint;
      const found = new Array<BatchAnswer>(distinct.length);
      for (let i = 0; i < found.length; i++) found[i] = this.decoded.decode(distinct[i]!, reply[i + 2] ?? null);
      if (slots === null) return found;
      const answers = new Array<BatchAnswer>(digests.length);
      for (let i = 0; i < answers.length; i++) answers[i] = found[slots[i]!]!;
      return answers;
    }
    throw new ProjectionUnavailableError('the Redis projection keeps switching generations');
  }

  /**
   * Applies to the live generation. An empty store starts one only for a batch read from the
   * start of the log (`after` = 0): anything later would leave the events before it missing.
   * A projector rebuilds an empty store instead (lookups stay unavailable until it is done).
   */
  async apply(events: RecordedEvent[], after?: bigint): Promise<void> {
    if (events.length === 0) return;
    await this.guard('apply events', () =>
      applyWithRetry(async () => {
        this.generation ??= await this.liveGeneration();
        if (this.generation === null) {
          if ((after ?? 0n) !== 0n) throw this.empty();
          await this.writer.set(keys.live, String(await this.writer.incr(keys.counter)), 'NX');
          return 'GEN';
        }
        const reply = await applyOnce(this.writer, this.generation, true, events, after);
        if (reply === 'GEN') this.generation = await this.liveGeneration();
        return reply;
      }),
    );
    // The projection now reflects the log at least this far: lookups must not see less.
    this.seen = Math.max(this.seen, Number(events.at(-1)!.position));
  }

  async checkpoint(): Promise<bigint> {
    return this.guard('read the checkpoint', async () => {
      const [live = null, checkpoint = null] = await this.writer.mget(keys.live, keys.checkpoint(this.generation ?? ''));
      if (live === this.generation) return BigInt(checkpoint ?? 0);
      this.generation = live;
      return live === null ? 0n : BigInt((await this.writer.get(keys.checkpoint(live))) ?? 0);
    });
  }

  async isEmpty(): Promise<boolean> {
    return this.guard('read the projection', async () => (this.generation = await this.liveGeneration()) === null);
  }

  /** Forgets the projection at once (lookups become unavailable), then deletes its keys. */
  async clear(): Promise<void> {
    await this.guard('clear the projection', async () => {
      const old = await this.liveGeneration();
      if (old === null) return;
      // The old generation joins the ones to delete in the same step, so a crash leaks nothing.
      await execChecked(this.writer.multi().del(keys.live).sadd(keys.generations, old));
      this.generation = null;
      // Forgotten on purpose, by this process: what it saw before does not count any more.
      this.seen = 0;
      await dropGeneration(this.writer, this.prefix, old);
    });
  }

  async close(): Promise<void> {
    await Promise.all([closeRedis(this.reader), closeRedis(this.writer)]);
  }

  async beginRebuild(): Promise<ProjectionBuild> {
    return this.guard('start a rebuild', () => beginRedisBuild(this.writer, this.prefix, this.target));
  }

  async dump(): Promise<ProjectionDump> {
    return this.guard('read the projection', async () => {
      const dump: ProjectionDump = { checkpoint: 0n, docs: new Map<string, UserDoc>(), records: new Map<string, StoredRecord>() };
      const gen = await this.liveGeneration();
      if (gen === null) return dump;
      const docPrefix = keys.doc(gen, '');
      const recordPrefix = keys.record(gen, '');
      for await (const [key, value] of scanGeneration(this.writer, this.prefix, gen)) {
        if (key.startsWith(recordPrefix)) dump.records.set(key.slice(recordPrefix.length), decodeRecord(value));
        else if (key.startsWith(docPrefix)) dump.docs.set(key.slice(docPrefix.length), decodeDoc(value));
        else if (key === keys.checkpoint(gen)) dump.checkpoint = BigInt(value);
      }
      return dump;
    });
  }

  private liveGeneration(): Promise<string | null> {
    return this.writer.get(keys.live);
  }

  private behind(checkpoint: number, seen: number): ProjectionUnavailableError {
    return new ProjectionUnavailableError(
      `TOKENLEDGER_REDIS_URL: the projection in Redis at ${this.target} is at position ${checkpoint}, behind ${seen} where this ` +
        'server saw it (restored from an older snapshot, or a failover to a lagging replica): keys are refused until a projector has caught up',
    );
  }

  private empty(): ProjectionUnavailableError {
    return new ProjectionUnavailableError(
      `TOKENLEDGER_REDIS_URL: the projection in Redis at ${this.target} is empty (new, or Redis lost its data); ` +
        'a projector rebuilds it (tokenledger projection rebuild)',
    );
  }

  private async guard<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw unavailable(error, this.target, doing);
    }
  }
}

/** The distinct digests of a batch, and where each lookup's answer is among them (null: all distinct). */
function distinctOf(digests: string[]): { distinct: string[]; slots: Uint32Array | null } {
  if (digests.length === 1) return { distinct: digests, slots: null };
  const at = new Map<string, number>();
  const slots = new Uint32Array(digests.length);
  const distinct: string[] = [];
  for (let i = 0; i < digests.length; i++) {
    const digest = digests[i]!;
    let slot = at.get(digest);
    if (slot === undefined) {
      slot = distinct.length;
      at.set(digest, slot);
      distinct.push(digest);
    }
    slots[i] = slot;
  }
  return distinct.length === digests.length ? { distinct: digests, slots: null } : { distinct, slots };
}

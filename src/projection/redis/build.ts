import type { StoredRecord, UserDoc } from '../../../projections/token-records.js';
import type { ProjectionBuild } from '../port.js';
import { applyOnce, applyWithRetry, keys, recordArgs } from './apply.js';
import { execChecked, unavailable, type ProjectionPipeline, type ProjectionRedis } from './client.js';
import { encodeDoc } from './codec.js';

/** A build holds a lease while it runs; a generation without one is an abandoned build. */
const LEASE_MS = 60_000;
/** Commands per pipeline round trip: big enough to hide latency, small enough for the timeout. */
const PIPELINE = 1_000;
/** Keys per MSET or UNLINK. */
const MULTI_KEY = 200;

const GLOB = /[*?[\]\\]/g;

/** Every key of a generation with its value, read in SCAN pages (the prefix is stripped). */
export async function* scanGeneration(redis: ProjectionRedis, prefix: string, gen: string): AsyncGenerator<[string, string]> {
  for await (const page of scanKeys(redis, prefix, gen)) {
    const values = await redis.mget(...page);
    for (let i = 0; i < page.length; i++) if (values[i] != null) yield [page[i]!, values[i]!];
  }
}

async function* scanKeys(redis: ProjectionRedis, prefix: string, gen: string): AsyncGenerator<string[]> {
  // SCAN's MATCH sees full key names (keyPrefix does not apply to patterns), and the prefix is
  // the user's: its glob characters are escaped.
  const pattern = `${prefix.replace(GLOB, '\\$&')}g${gen}:*`;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    if (found.length > 0) yield found.map((key) => key.slice(prefix.length));
  } while (cursor !== '0');
}

/** Deletes a non-live generation, page by page (UNLINK frees memory off the main thread). */
export async function dropGeneration(redis: ProjectionRedis, prefix: string, gen: string): Promise<void> {
  for await (const page of scanKeys(redis, prefix, gen)) await redis.unlink(...page);
  await redis.srem(keys.generations, gen);
}

/** The switch script's keys: pointer, both checkpoints, the set of non-live generations, the lease. */
export function switchKeys(live: string, gen: string): string[] {
  return [keys.live, keys.checkpoint(gen), keys.checkpoint(live), keys.generations, keys.lease(gen)];
}

/** Removes generations whose build died (killed rebuilds): not live, no lease. */
async function dropAbandoned(redis: ProjectionRedis, prefix: string): Promise<void> {
  const live = await redis.get(keys.live);
  for (const gen of await redis.smembers(keys.generations)) {
    if (gen !== live && (await redis.exists(keys.lease(gen))) === 0) await dropGeneration(redis, prefix, gen);
  }
}

/** Starts building a new generation beside the live one (see ProjectionBuild). */
export async function beginRedisBuild(redis: ProjectionRedis, prefix: string, target: string): Promise<ProjectionBuild> {
  await dropAbandoned(redis, prefix);
  const gen = String(await redis.incr(keys.counter));
  await execChecked(redis.multi().sadd(keys.generations, gen).set(keys.lease(gen), '1', 'PX', LEASE_MS));
  const renew = setInterval(() => void redis.pexpire(keys.lease(gen), LEASE_MS).catch(() => {}), LEASE_MS / 4);
  renew.unref();
  const guard = async <T>(doing: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw unavailable(error, target, doing);
    }
  };

  return {
    write: (docs, records, checkpoint) => guard('write the rebuild', () => writeBlind(redis, gen, docs, records, checkpoint)),
    apply: (events, after) => guard('catch up the rebuild', () => applyWithRetry(() => applyOnce(redis, gen, false, events, after))),
    checkpoint: () => guard('read the rebuild checkpoint', async () => BigInt((await redis.get(keys.checkpoint(gen))) ?? 0)),
    commit: () =>
      guard('switch to the rebuilt projection', async () => {
        const live = (await redis.get(keys.live)) ?? '';
        const reply = await redis.tlSwitch(...switchKeys(live, gen), live, gen, '0');
        if (reply !== 'OK') return false;
        clearInterval(renew);
        if (live !== '') await dropGeneration(redis, prefix, live);
        return true;
      }),
    abort: () =>
      guard('drop the rebuild', async () => {
        clearInterval(renew);
        await redis.del(keys.lease(gen));
        await dropGeneration(redis, prefix, gen);
      }),
  };
}

/**
 * Nobody reads or writes a generation under construction, so plain pipelined writes suffice, and
 * multi-key commands (MSET, UNLINK, the bulk-set script) spare the client one command per key.
 */
async function writeBlind(
  redis: ProjectionRedis,
  gen: string,
  docs: ReadonlyMap<string, UserDoc>,
  records: Map<string, StoredRecord | null>,
  checkpoint: bigint,
): Promise<void> {
  const puts: string[] = [...docs].flatMap(([key, doc]) => [keys.doc(gen, key), encodeDoc(doc)]);
  const expiringKeys: string[] = [];
  const expiringArgs: string[] = [];
  const deletes: string[] = [];
  for (const [digest, record] of records) {
    const [value, expiry] = recordArgs(record);
    if (value === '') deletes.push(keys.record(gen, digest));
    else if (expiry === '0') puts.push(keys.record(gen, digest), value);
    else {
      expiringKeys.push(keys.record(gen, digest));
      expiringArgs.push(value, expiry);
    }
  }
  let pipeline = redis.pipeline() as ProjectionPipeline;
  let queued = 0;
  const pending: Promise<unknown>[] = [];
  const queue = (add: () => void) => {
    add();
    if (++queued < PIPELINE) return;
    pending.push(execChecked(pipeline));
    pipeline = redis.pipeline() as ProjectionPipeline;
    queued = 0;
  };
  for (let i = 0; i < puts.length; i += 2 * MULTI_KEY) queue(() => pipeline.mset(...puts.slice(i, i + 2 * MULTI_KEY)));
  for (let i = 0; i < deletes.length; i += MULTI_KEY) queue(() => pipeline.unlink(...deletes.slice(i, i + MULTI_KEY)));
  for (let i = 0; i < expiringKeys.length; i += MULTI_KEY) {
    const chunk = expiringKeys.slice(i, i + MULTI_KEY);
    queue(() => pipeline.tlBulkSet(chunk.length, ...chunk, ...expiringArgs.slice(2 * i, 2 * i + 2 * chunk.length)));
  }
  pipeline.set(keys.checkpoint(gen), String(checkpoint)).pexpire(keys.lease(gen), LEASE_MS);
  pending.push(execChecked(pipeline));
  await Promise.all(pending);
}

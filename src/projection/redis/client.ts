import { Redis, type ChainableCommander } from './ioredis.js';
import { ProjectionGapError, ProjectionUnavailableError } from '../port.js';
import { APPLY_SCRIPT, BULK_SET_SCRIPT, SWITCH_SCRIPT } from './scripts.js';
import { createRedis } from './topology.js';
import { redisTarget } from './url.js';

export { redisTarget };

/** ioredis with our scripts, defined once per connection (EVALSHA, reloaded after a Redis restart). */
export interface ProjectionRedis extends Redis {
  tlApply(numKeys: number, ...args: (string | number)[]): Promise<string>;
  tlSwitch(...args: (string | number)[]): Promise<string>;
  tlBulkSet(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

/** A pipeline of that connection, with the scripts on it too. */
export type ProjectionPipeline = ChainableCommander & { tlBulkSet(numKeys: number, ...args: (string | number)[]): ProjectionPipeline };

export interface RedisConnectOptions {
  url: string;
  prefix: string;
  /** Bound on every command of this connection. */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  name: string;
}

/**
 * Any failure of the driver becomes our unavailable error (driver error names stay in this
 * file); our own errors pass through.
 */
export function unavailable(error: unknown, target: string, doing: string): Error {
  if (error instanceof ProjectionUnavailableError || error instanceof ProjectionGapError) return error;
  const reason = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
  return new ProjectionUnavailableError(`TOKENLEDGER_REDIS_URL: Redis at ${target} failed to ${doing} (${reason})`);
}

/**
 * A connection that fails fast instead of queueing: no offline queue, no retry of a command whose
 * connection dropped, a bounded reply time. It keeps reconnecting in the background (at most
 * 1 s apart), so Redis coming back needs no restart of the process. The URL may name one Redis,
 * a Redis Cluster or a Sentinel-watched master (see url.ts); the options are the same.
 */
export async function connectRedis(options: RedisConnectOptions): Promise<ProjectionRedis> {
  const target = redisTarget(options.url);
  const client = createRedis(options.url, {
    keyPrefix: options.prefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    connectionName: options.name,
    scripts: {
      tlApply: { lua: APPLY_SCRIPT },
      tlSwitch: { lua: SWITCH_SCRIPT, numberOfKeys: 5 },
      tlBulkSet: { lua: BULK_SET_SCRIPT },
    },
  }) as ProjectionRedis;
  // Errors surface on the commands that fail; without a listener ioredis would print each one.
  // The last one explains a first connect that never gets ready.
  let lastError = '';
  client.on('error', (error: Error) => void (lastError = error.message.split('\n', 1)[0]!));
  try {
    // A Cluster whose state is not ok, or sentinels that know no such master, keep retrying
    // inside connect(): bound the wait.
    await Promise.race([client.connect(), deadline(2 * options.connectTimeoutMs + 1_000, () => lastError)]);
  } catch (error) {
    client.disconnect();
    throw new ProjectionUnavailableError(`TOKENLEDGER_REDIS_URL: cannot connect to Redis at ${target} (${(error as Error).message})`);
  }
  return client;
}

function deadline(ms: number, why: () => string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`not ready within ${ms} ms${why() ? `: ${why()}` : ''}`)), ms).unref());
}

/** Runs a pipeline and checks every reply: one failed command fails the whole call. */
export async function execChecked(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('pipeline discarded');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** Ends a connection politely, or at once when Redis is gone (quit would wait for nothing). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

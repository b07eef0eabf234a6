import { Redis, type ChainableCommander } from 'ioredis';
import { ProjectionGapError, ProjectionUnavailableError } from './port.js';
import { APPLY_SCRIPT, SWITCH_SCRIPT } from './redis-scripts.js';

/** ioredis with our scripts, defined once per connection (EVALSHA, reloaded after a Redis restart). */
export interface ProjectionRedis extends Redis {
  tlApply(numKeys: number, ...args: (string | number)[]): Promise<string>;
  tlSwitch(...args: (string | number)[]): Promise<string>;
}

export interface RedisConnectOptions {
  url: string;
  prefix: string;
  /** Bound on every command of this connection. */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  name: string;
}

/** host:port of a Redis URL, for messages: never the password a URL may carry. */
export function redisTarget(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname || '127.0.0.1'}:${port || '6379'}`;
  } catch {
    return 'the configured Redis';
  }
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
 * 1 s apart), so Redis coming back needs no restart of the process.
 */
export async function connectRedis(options: RedisConnectOptions): Promise<ProjectionRedis> {
  const target = redisTarget(options.url);
  const client = new Redis(options.url, {
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
    },
  }) as ProjectionRedis;
  // Errors surface on the commands that fail; without a listener ioredis would print each one.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new ProjectionUnavailableError(`TOKENLEDGER_REDIS_URL: cannot connect to Redis at ${target} (${(error as Error).message})`);
  }
  return client;
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

import { Cluster, Command, Redis, type RedisOptions } from './ioredis.js';
import { ConfigError } from '../../domain/errors.js';
import { hasHashTag, parseRedisUrl, RedisUrlError, type RedisTopology } from './url.js';

/** Reconnection delays, as for one Redis (connectRedis): at most 1 s apart, never giving up. */
const backoff = (times: number) => Math.min(times * 100, 1_000);

/** What every connection gets, whatever the topology: see connectRedis. */
export type BaseOptions = RedisOptions & { keyPrefix: string; scripts: Record<string, { lua: string; numberOfKeys?: number }> };

/**
 * The ioredis client for a TOKENLEDGER_REDIS_URL: one Redis, a Sentinel-watched master, or a
 * Redis Cluster. A Cluster answers the same commands as one Redis (ioredis routes each by the
 * slot of its keys), and the projection's code needs only those, so callers see one type.
 */
export function createRedis(url: string, options: BaseOptions): Redis {
  let topology: RedisTopology;
  try {
    topology = parseRedisUrl(url);
  } catch (error) {
    if (error instanceof RedisUrlError) throw new ConfigError(`TOKENLEDGER_REDIS_URL: ${error.message}`);
    throw error;
  }
  if (topology.kind === 'single') return new Redis(url, options);
  if (topology.kind === 'sentinel') {
    const { kind: _kind, ...sentinel } = topology;
    return new Redis({
      ...options,
      ...sentinel,
      // Asking the sentinels again must never stop (without a delay here a connection ends for
      // good after one failed round); connectRedis bounds the first connect instead.
      sentinelRetryStrategy: backoff,
      sentinelCommandTimeout: options.connectTimeout,
      // On +switch-master, drop the connection and ask the sentinels at once: the old master takes
      // writes until Sentinel demotes it (seconds later), and its replication would erase them.
      failoverDetector: true,
      // A demoted master answers writes with READONLY: reconnect to whoever is master now.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
  }
  return createCluster(topology, options);
}

function createCluster({ nodes, username, password }: Extract<RedisTopology, { kind: 'cluster' }>, options: BaseOptions): Redis {
  // The projection's writes are Lua scripts over many keys: a Cluster runs them only when all
  // keys share one slot, which a hash tag in the prefix guarantees (config.ts checks it too).
  if (!hasHashTag(options.keyPrefix)) {
    throw new ConfigError(`TOKENLEDGER_REDIS_PREFIX: on a Redis Cluster the prefix needs a hash tag, e.g. {tokenledger}:`);
  }
  const cluster = new Cluster(nodes, {
    keyPrefix: options.keyPrefix,
    scripts: options.scripts,
    lazyConnect: true,
    enableOfflineQueue: false,
    // Reads stay on the master: a replica lags, and a revoked token must not pass there.
    scaleReads: 'master',
    clusterRetryStrategy: backoff,
    slotsRefreshTimeout: options.connectTimeout,
    // No waiting out a failover or CLUSTERDOWN inside a command: it fails now (503, fail closed)
    // and the next one finds the new topology. MOVED and TRYAGAIN (resharding) are still followed.
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    redisOptions: {
      username,
      password,
      connectTimeout: options.connectTimeout,
      commandTimeout: options.commandTimeout,
      maxRetriesPerRequest: 0,
      connectionName: options.connectionName,
    },
  });
  // SCAN names no key, so a Cluster would send it to any master; every key of ours lives in the
  // slot of the prefix's hash tag, so our SCANs go to the master of that slot (ioredis's Command
  // and sendCommand, past its command methods: test/projection/redis/ioredis.int.test.ts).
  const slot = new Command('get', [''], { keyPrefix: options.keyPrefix }).getSlot();
  Object.defineProperty(cluster, 'scan', {
    value: (...args: (string | number)[]) => {
      const command = new Command('scan', args, { replyEncoding: 'utf8' });
      void cluster.sendCommand(command, undefined, { slot });
      return command.promise;
    },
  });
  return cluster as unknown as Redis;
}

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisProjectionStore } from '../../../src/projection/redis/store.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix no other test (or run) shares. */
export function uniquePrefix(tag: string): string {
  return `test:b1:${tag}:${randomUUID().slice(0, 8)}:`;
}

export function openRedisStore(prefix: string, url = REDIS_URL): Promise<RedisProjectionStore> {
  return RedisProjectionStore.open({ url, prefix });
}

/**
 * A store whose live projection exists and is empty, so that a test can `apply` the log from its
 * first event by hand (a projector would rebuild an empty store instead).
 */
export async function openStartedStore(prefix: string, url = REDIS_URL): Promise<RedisProjectionStore> {
  const store = await openRedisStore(prefix, url);
  const build = await store.beginRebuild();
  if (!(await build.commit())) throw new Error('could not start an empty projection');
  return store;
}

/** A plain connection (no prefix) for checks and for deleting a test's keys afterwards. */
export function rawRedis(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

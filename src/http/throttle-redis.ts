import { randomUUID } from 'node:crypto';
import type { Redis } from '../projection/redis/ioredis.js';
import { ProjectionUnavailableError } from '../projection/port.js';
import type { Rate, ThrottleStore } from './throttle.js';

// One sorted set of failure times per key. Both scripts trim the window first, so a key's set
// holds at most the failures of one window; the set expires with its newest failure.
const WAIT = `
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then return 0 end
local nth = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return math.max(0, tonumber(nth[2]) + window - now)
`;

const HIT = `
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -limit - 1)
redis.call('PEXPIRE', KEYS[1], window)
return 1
`;

interface ThrottleCommands {
  throttleWait(key: string, now: number, window: number, limit: number): Promise<number>;
  throttleHit(key: string, now: number, window: number, limit: number, member: string): Promise<number>;
}

/**
 * The throttle's failure times in Redis, shared by every replica. One key per call (never two
 * keys in one script), so it works unchanged on a Redis Cluster. Times come from our clock, not
 * Redis's, so that the window is the one the settings (and tests) give.
 */
export class RedisThrottleStore implements ThrottleStore {
  private readonly redis: Redis & ThrottleCommands;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly rate: Rate,
  ) {
    redis.defineCommand('throttleWait', { numberOfKeys: 1, lua: WAIT });
    redis.defineCommand('throttleHit', { numberOfKeys: 1, lua: HIT });
    this.redis = redis as Redis & ThrottleCommands;
  }

  // Redis down: the login fails closed with 503 (as the middleware does), never with a 500.
  private async guard<T>(doing: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
      throw new ProjectionUnavailableError(`TOKENLEDGER_REDIS_URL: the login throttle could not ${doing} in Redis (${reason})`);
    }
  }

  wait(key: string, nowMs: number): Promise<number> {
    return this.guard('read failures', async () =>
      Number(await this.redis.throttleWait(this.prefix + key, nowMs, this.rate.windowMs, this.rate.limit)),
    );
  }

  hit(key: string, nowMs: number): Promise<void> {
    return this.guard('record a failure', async () => {
      await this.redis.throttleHit(this.prefix + key, nowMs, this.rate.windowMs, this.rate.limit, `${nowMs}:${randomUUID()}`);
    });
  }

  ping(): Promise<void> {
    return this.guard('ping', async () => void (await this.redis.ping()));
  }

  /** The connection belongs to whoever opened it. */
  async close(): Promise<void> {}
}

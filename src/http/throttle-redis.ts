import type { Redis } from '../projection/redis/ioredis.js';
import { ProjectionUnavailableError } from '../projection/port.js';
import type { Rate, ThrottleStore } from './throttle.js';

// One sorted set of attempt times per key. Every script trims the window first, so a key's set
// holds at most the attempts of one window; the set expires with its newest attempt.
const WAIT = `
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then return 0 end
local nth = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return math.max(0, tonumber(nth[2]) + window - now)
`;

// Check every key, and record the attempt under all of them only when all are below the limit:
// one script, so no other client's attempt can come between the check and the record.
const RESERVE = `
local now, window, limit, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local nth = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(nth[2]) + window - now)
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
return 0
`;

const RELEASE = `
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 1
`;

interface ThrottleCommands {
  throttleWait(key: string, now: number, window: number, limit: number): Promise<number>;
  throttleReserve(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
  throttleRelease(numberOfKeys: number, ...args: string[]): Promise<number>;
}

/**
 * The throttle's attempt times in Redis, shared by every replica. The keys of one reservation
 * (an address and a username) go to one script, so every throttle key carries the same hash tag
 * and lives in one slot: on a Redis Cluster the throttle is served by one shard. Times come from
 * our clock, not Redis's, so that the window is the one the settings (and tests) give.
 */
export class RedisThrottleStore implements ThrottleStore {
  private readonly redis: Redis & ThrottleCommands;
  private readonly prefix: string;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly rate: Rate,
  ) {
    redis.defineCommand('throttleWait', { numberOfKeys: 1, lua: WAIT });
    redis.defineCommand('throttleReserve', { lua: RESERVE });
    redis.defineCommand('throttleRelease', { lua: RELEASE });
    this.redis = redis as Redis & ThrottleCommands;
    this.prefix = `${prefix}{throttle}:`;
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
    return this.guard('read attempts', async () =>
      Number(await this.redis.throttleWait(this.prefix + key, nowMs, this.rate.windowMs, this.rate.limit)),
    );
  }

  reserve(keys: readonly string[], member: string, nowMs: number): Promise<number> {
    return this.guard('reserve an attempt', async () =>
      Number(
        await this.redis.throttleReserve(
          keys.length,
          ...keys.map((key) => this.prefix + key),
          nowMs,
          this.rate.windowMs,
          this.rate.limit,
          member,
        ),
      ),
    );
  }

  release(keys: readonly string[], member: string): Promise<void> {
    return this.guard('release an attempt', async () => {
      await this.redis.throttleRelease(keys.length, ...keys.map((key) => this.prefix + key), member);
    });
  }

  ping(): Promise<void> {
    return this.guard('ping', async () => void (await this.redis.ping()));
  }

  /** The connection belongs to whoever opened it. */
  async close(): Promise<void> {}
}

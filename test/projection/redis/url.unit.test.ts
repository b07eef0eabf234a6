import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../../src/config.js';
import { hasHashTag, parseRedisUrl, RedisUrlError, redisTarget } from '../../../src/projection/redis/url.js';

describe('TOKENLEDGER_REDIS_URL: what it names', () => {
  it('a single Redis is handed to ioredis as is', () => {
    expect(parseRedisUrl('redis://:pw@10.0.0.1:6380/2')).toEqual({ kind: 'single', url: 'redis://:pw@10.0.0.1:6380/2' });
    expect(parseRedisUrl('rediss://cache.example:6380').kind).toBe('single');
  });

  it('a cluster: its nodes, a user and a percent-encoded password, default port 6379', () => {
    expect(parseRedisUrl('redis+cluster://app:p%40ss@h1:7000,h2,[::1]:7002/')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 'p@ss',
    });
    expect(parseRedisUrl('redis+cluster://:pw@h1:7000')).toEqual({ kind: 'cluster', nodes: [{ host: 'h1', port: 7000 }], password: 'pw' });
  });

  it('a sentinel-watched master: sentinels (default port 26379), master name, database', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@s1,s2:26380/mymaster/3')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
      db: 3,
      password: 'pw',
    });
    expect(parseRedisUrl('redis+sentinel://s1:26379/mymaster')).toMatchObject({ name: 'mymaster', db: 0 });
  });

  it.each([
    ['redis+cluster://:s3cret@', /at least one host:port/],
    ['redis+cluster://:s3cret@h1:99999', /"h1:99999" is not host:port/],
    ['redis+cluster://:s3cret@h1:7000/0', /no databases/],
    ['redis+sentinel://:s3cret@s1:26379', /ends with \/mastername/],
    ['redis+sentinel://:s3cret@s1:26379/m/x', /ends with \/mastername/],
    ['redis+cluster://:%zz@h1', /password in the URL is not valid percent-encoding/],
    ['memcached://h1', /expected redis:\/\/host:port/],
  ])('%s is refused with a reason and without the password', (url, reason) => {
    let error: unknown;
    try {
      parseRedisUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RedisUrlError);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('names the target for messages, never with the password', () => {
    expect(redisTarget('redis://:s3cret@10.0.0.1:6380')).toBe('10.0.0.1:6380');
    expect(redisTarget('redis+cluster://:s3cret@h1:7000,[::1]:7001')).toBe('cluster h1:7000,[::1]:7001');
    expect(redisTarget('redis+sentinel://:s3cret@s1/mymaster')).toBe('mymaster via sentinels s1:26379');
    expect(redisTarget('redis+cluster://:s3cret@')).toBe('the configured Redis');
  });
});

describe('hash tags: what puts every key of a prefix in one cluster slot', () => {
  it.each([
    ['{tokenledger}:', true],
    ['app:{tl}:', true],
    ['}{tl}:', true],
    ['tokenledger:', false],
    ['{}:', false],
    ['{}{tl}:', false],
    ['{tl:', false],
  ])('%s → %s', (prefix, tagged) => expect(hasHashTag(prefix)).toBe(tagged));
});

describe('settings for a Redis Cluster', () => {
  const cluster = 'redis+cluster://:s3cret@127.0.0.1:7000,127.0.0.1:7001';

  it('default to the prefix {tokenledger}: (one slot); one Redis and Sentinel keep tokenledger:', () => {
    expect(loadSettings({}, { TOKENLEDGER_REDIS_URL: cluster }).redisPrefix).toBe('{tokenledger}:');
    expect(loadSettings({}, { TOKENLEDGER_REDIS_URL: 'redis+sentinel://s1/mymaster' }).redisPrefix).toBe('tokenledger:');
    expect(loadSettings({}, { TOKENLEDGER_REDIS_URL: 'redis://127.0.0.1:6379' }).redisPrefix).toBe('tokenledger:');
  });

  it('keep a prefix of the user that has a hash tag, and refuse one without, naming TOKENLEDGER_REDIS_PREFIX', () => {
    expect(loadSettings({}, { TOKENLEDGER_REDIS_URL: cluster, TOKENLEDGER_REDIS_PREFIX: '{myapp}:auth:' }).redisPrefix).toBe('{myapp}:auth:');
    expect(() => loadSettings({}, { TOKENLEDGER_REDIS_URL: cluster, TOKENLEDGER_REDIS_PREFIX: 'myapp:' })).toThrow(
      new ConfigError(
        'TOKENLEDGER_REDIS_PREFIX: on a Redis Cluster the prefix needs a hash tag, e.g. {myapp}: ' +
          '(every key of the projection must share one slot for its atomic writes)',
      ),
    );
  });

  it('refuse a cluster URL that names no node, naming TOKENLEDGER_REDIS_URL and not the password', () => {
    expect(() => loadSettings({}, { TOKENLEDGER_REDIS_URL: 'redis+cluster://:s3cret@' })).toThrow(/^TOKENLEDGER_REDIS_URL: a redis\+cluster URL lists/);
    expect(() => loadSettings({}, { TOKENLEDGER_REDIS_URL: 'redis+cluster://:s3cret@' })).not.toThrow(/s3cret/);
  });
});

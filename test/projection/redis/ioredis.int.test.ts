import { afterAll, describe, expect, it } from 'vitest';
import { closeRedis, connectRedis } from '../../../src/projection/redis/client.js';
import { Command } from '../../../src/projection/redis/ioredis.js';
import { REDIS_URL, deleteKeys, rawRedis, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('ioredis-guard');
afterAll(async () => {
  const raw = rawRedis();
  await deleteKeys(raw, prefix);
  raw.disconnect();
});

// The Redis projection goes past ioredis's command methods in two places: every lookup sends its
// own MGET Command (whole key names, replies as bytes; src/projection/redis/store.ts), and on a
// Cluster its SCANs go to the slot of the prefix (src/projection/redis/topology.ts). An ioredis
// upgrade that changes what those rely on fails here.
describe('ioredis internals the Redis projection relies on (guard)', () => {
  it('a Command built without options goes out as it is on a connection with a keyPrefix, and answers bytes', async () => {
    const redis = await connectRedis({ url: REDIS_URL, prefix, commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, name: 'tokenledger-guard' });
    try {
      await redis.set('present', 'value ü');
      const reply = await redis.sendCommand(new Command('mget', [`${prefix}present`, `${prefix}absent`, 'present']));
      // Had the connection prefixed the names, the first would be missed and the last found.
      expect(reply).toEqual([Buffer.from('value ü'), null, null]);
      expect(Buffer.isBuffer((reply as unknown[])[0])).toBe(true);
    } finally {
      await closeRedis(redis);
    }
  });

  it('a Command knows the cluster slot of its key, keyPrefix included', () => {
    // The slots Redis's own documentation gives for CLUSTER KEYSLOT.
    expect(new Command('get', ['somekey']).getSlot()).toBe(11058);
    expect(new Command('get', ['bar{hash_tag}']).getSlot()).toBe(2515);
    expect(new Command('get', [''], { keyPrefix: 'foo{hash_tag}' }).getSlot()).toBe(2515);
  });
});

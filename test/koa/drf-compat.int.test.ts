import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../src/koa/index.js';
import { MemoryProjectionStore } from '../../src/projection/memory.js';
import type { ProjectionStore } from '../../src/projection/port.js';
import { RedisProjectionStore } from '../../src/projection/redis/store.js';
import { drfScenario } from '../projection/redis/cluster-drf.js';
import { FRAMEWORKS, whoamiServer } from '../adapters/servers.js';
import { dropPrefix, tempLedger, testPrefix } from './fixtures.js';
import { get, type Listening } from './http.js';

/**
 * SPEC §7 and every message of SPEC §4, over real HTTP, for both keywords, on both real
 * projection stores fed with real events from the ledger, against each adapter (Koa, Express,
 * Fastify) with the same expected answers.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const DAY = 86_400_000;
const fx = await tempLedger();
const keys: Record<string, string> = {};
const prefix = testPrefix('compat');
const stores: Record<string, ProjectionStore> = {};
let carolExpires = 0;
let daveGraceEnds = 0;

// At collection time (top-level await): the table's rows are built from these keys.
{
  Object.assign(keys, await drfScenario(fx.ledger, fx.at));
  const [carol] = (await fx.ledger.listTokens({ user: 'carol' })).results;
  carolExpires = Date.parse(carol!.expiresAt!);
  const [dave] = (await fx.ledger.listTokens({ user: 'dave' })).results;
  daveGraceEnds = Date.parse(dave!.graceUntil!);

  const events = await fx.store.readAll();
  stores.memory = new MemoryProjectionStore();
  stores.redis = await RedisProjectionStore.open({ url: REDIS_URL, prefix });
  for (const store of Object.values(stores)) await store.apply(events);
}

afterAll(async () => {
  for (const store of Object.values(stores)) await store.close();
  await dropPrefix(REDIS_URL, prefix);
  await fx.dispose();
});

/** For a 200 the last-but-one field is the username the app answers with (null: anonymous); otherwise the detail. */
type Row = [label: string, authorization: string | null, status: number, expected: string | null, path?: string];

/** The rows for one keyword; `K` is the keyword as configured, `other` a keyword it must not accept. */
function rows(K: string, other: string): Row[] {
  const key = keys.alice!;
  return [
    // SPEC §7, accepted spellings
    [`${K} <key>`, `${K} ${key}`, 200, 'alice'],
    [`${K.toLowerCase()} <key>`, `${K.toLowerCase()} ${key}`, 200, 'alice'],
    [`${K.toUpperCase()} <key>`, `${K.toUpperCase()} ${key}`, 200, 'alice'],
    [`  ${K}   <key>  `, `  ${K}   ${key}  `, 200, 'alice'],
    [`${K}\\t<key>`, `${K}\t${key}`, 200, 'alice'],
    // not attempted
    ['no header', null, 401, MESSAGES.notProvided],
    ["''", '', 401, MESSAGES.notProvided],
    [`${other} <key>`, `${other} ${key}`, 401, MESSAGES.notProvided],
    ['Basic …', 'Basic YWxpY2U6d29uZGVybGFuZC0xMjM=', 401, MESSAGES.notProvided],
    [`${K}abc`, `${K}abc`, 401, MESSAGES.notProvided],
    [`${K}\\xa0<key>`, `${K}\xa0${key}`, 401, MESSAGES.notProvided],
    // malformed headers
    [K, K, 401, MESSAGES.noCredentials],
    [`${K}   `, `${K}   `, 401, MESSAGES.noCredentials],
    [`${K} a b`, `${K} a b`, 401, MESSAGES.spaces],
    [`${K} <key>\\xb8`, `${K} ${key}\xb8`, 401, MESSAGES.invalidCharacters],
    // keys that are not a live key
    [`${K} <key>é (UTF-8)`, `${K} ${key}\xc3\xa9`, 401, MESSAGES.invalidToken],
    [`${K} <KEY>`, `${K} ${key.toUpperCase()}`, 401, MESSAGES.invalidToken],
    [`${K} "<key>"`, `${K} "${key}"`, 401, MESSAGES.invalidToken],
    [`${K} <key>,`, `${K} ${key},`, 401, MESSAGES.invalidToken],
    ['revoked key', `${K} ${keys.frank}`, 401, MESSAGES.invalidToken],
    ['superseded key, no grace', `${K} ${keys.erinOld}`, 401, MESSAGES.invalidToken],
    ['tl_ key with a bad checksum', `${K} ${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, 401, MESSAGES.invalidToken],
    ['unknown DRF-shaped key', `${K} ${'ab'.repeat(20)}`, 401, MESSAGES.invalidToken],
    // the token's and the user's state
    ['expired key', `${K} ${keys.carol}`, 401, MESSAGES.expired],
    ["inactive user's key", `${K} ${keys.bob}`, 401, MESSAGES.inactive],
    ['superseded key inside its grace', `${K} ${keys.daveOld}`, 200, 'dave'],
    ['the rotated key', `${K} ${keys.daveNew}`, 200, 'dave'],
    ['the new key after a rotation without grace', `${K} ${keys.erinNew}`, 200, 'erin'],
    ['an imported-style DRF key', `${K} ${keys.legacy}`, 200, 'alice'],
    // scopes, and anonymous routes
    ['scoped token, route needs no scope', `${K} ${keys.reader}`, 200, 'alice'],
    ['scoped token, route needs another scope', `${K} ${keys.reader}`, 403, MESSAGES.forbidden, '/api/write/'],
    ['unscoped token, route needs a scope', `${K} ${key}`, 200, 'alice', '/api/write/'],
    ['anonymous route, no header', null, 200, null, '/api/open/'],
    ['anonymous route, failed attempt', `${K} nope`, 401, MESSAGES.invalidToken, '/api/open/'],
    ['anonymous route, malformed header', `${K} a b`, 401, MESSAGES.spaces, '/api/open/'],
  ];
}

describe.each(FRAMEWORKS.flatMap((framework) => ['memory', 'redis'].map((backend) => [framework, backend] as const)))('%s: DRF compatibility on the %s projection', (framework, backend) => {
  describe.each([
    ['Token', 'Bearer'],
    ['Bearer', 'Token'],
  ])('keyword %s', (keyword, other) => {
    let server: Listening;
    beforeAll(async () => {
      server = await whoamiServer(framework, stores[backend]!, { keyword });
    });
    afterAll(() => server.close());

    const table = rows(keyword, other).map(([label, ...rest]): Row => [`${label} → ${rest[1]}`, ...rest]);
    it.each(table)('%s', async (_, authorization, status, expected, path = '/api/whoami/') => {
      const reply = await get(server, path, authorization);
      expect(reply.status).toBe(status);
      if (status === 200) {
        expect(JSON.parse(reply.body)).toEqual({ username: expected });
        expect(reply.headers['www-authenticate']).toBeUndefined();
        return;
      }
      expect(reply.body).toBe(JSON.stringify({ detail: expected }));
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.headers['www-authenticate']).toBe(status === 401 ? keyword : undefined);
    });
  });
});

describe.each(FRAMEWORKS.flatMap((framework) => ['memory', 'redis'].map((backend) => [framework, backend] as const)))('%s: time on the %s projection, with an injected clock', (framework, backend) => {
  async function statusAt(now: number, key: string): Promise<string> {
    const server = await whoamiServer(framework, stores[backend]!, { clock: () => now });
    try {
      const reply = await get(server, '/api/whoami/', `Token ${key}`);
      return `${reply.status} ${reply.body}`;
    } finally {
      await server.close();
    }
  }

  it('a key expires at its expiresAt to the millisecond: "Token has expired."', async () => {
    expect(await statusAt(carolExpires - 1, keys.carol!)).toBe('200 {"username":"carol"}');
    expect(await statusAt(carolExpires, keys.carol!)).toBe(`401 ${JSON.stringify({ detail: MESSAGES.expired })}`);
  });

  it('a superseded key works until its grace ends, then is an invalid token; the new key goes on', async () => {
    expect(await statusAt(daveGraceEnds - 1, keys.daveOld!)).toBe('200 {"username":"dave"}');
    expect(await statusAt(daveGraceEnds, keys.daveOld!)).toBe(`401 ${JSON.stringify({ detail: MESSAGES.invalidToken })}`);
    expect(await statusAt(daveGraceEnds + DAY, keys.daveNew!)).toBe('200 {"username":"dave"}');
  });
});

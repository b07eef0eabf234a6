import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenRecord } from '../../src/domain/record.js';
import { digestKey, generateKey } from '../../src/domain/token-format.js';
import { tokenAuth, type AuthResult, type TokenAuthState } from '../../src/koa/index.js';
import { ProjectionUnavailableError } from '../../src/projection/port.js';
import { get, listen, type Listening } from './http.js';

// The middleware's own behaviour around `next()`, over real HTTP. The DRF table against real
// projection stores is in drf-compat.int.test.ts.
const key = generateKey('tl', 'tl', (n) => randomBytes(n));
const scopedKey = generateKey('tl', 'tl', (n) => randomBytes(n));
const downKey = generateKey('tl', 'tl', (n) => randomBytes(n));
const EXPIRES = Date.parse('2031-02-03T04:05:06.007Z');
const alice: TokenRecord = {
  userId: 'u-alice',
  username: 'alice',
  active: true,
  isStaff: true,
  isSuperuser: false,
  tokenId: 't-1',
  name: 'ci',
  scopes: [],
  expiresAt: EXPIRES,
  graceUntil: null,
};
const records = new Map([
  [digestKey(key), alice],
  [digestKey(scopedKey), { ...alice, scopes: ['tokens:read'] }],
]);
const results: AuthResult[] = [];
const projection = {
  async lookup(digest: string) {
    if (digest === digestKey(downKey)) throw new ProjectionUnavailableError('redis at 10.0.0.7:6379 refused the connection');
    return records.get(digest) ?? null;
  },
};

let server: Listening;
beforeAll(async () => {
  const app = new Koa<TokenAuthState>();
  const clock = () => Date.parse('2030-01-01T00:00:00Z');
  const optional = tokenAuth({ projection, required: false, clock });
  const required = tokenAuth({ projection, clock, onResult: (r) => results.push(r), retryAfterSeconds: 7 });
  const writer = tokenAuth({ projection, clock, scopes: ['tokens:write'] });
  app.use(async (ctx, next) => {
    if (ctx.path === '/open') return optional(ctx, async () => void (ctx.body = { user: ctx.state.user ?? null }));
    if (ctx.path === '/write') return writer(ctx, async () => void (ctx.body = { ok: true }));
    if (ctx.path === '/boom') return required(ctx, async () => Promise.reject(new Error('downstream secret detail')));
    return required(ctx, next);
  });
  app.use((ctx) => {
    ctx.body = { user: ctx.state.user, auth: ctx.state.auth };
  });
  app.silent = true;
  server = await listen(app);
});
afterAll(() => server.close());

describe('tokenAuth around next()', () => {
  it('puts the typed user and token on ctx.state', async () => {
    const reply = await get(server, '/', `Token ${key}`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({
      user: { id: 'u-alice', username: 'alice', isStaff: true, isSuperuser: false },
      auth: { tokenId: 't-1', name: 'ci', scopes: [], expiresAt: '2031-02-03T04:05:06.007Z', inGrace: false },
    });
  });

  it('never turns a downstream error into a 401', async () => {
    const reply = await get(server, '/boom', `Token ${key}`);
    expect(reply.status).toBe(500);
    expect(reply.body).not.toContain('secret');
    expect(reply.headers['www-authenticate']).toBeUndefined();
  });

  it('lets anonymous requests through where allowed, but a failed attempt is still a 401', async () => {
    expect(await get(server, '/open', null)).toMatchObject({ status: 200, body: '{"user":null}' });
    expect(await get(server, '/open', 'Basic abc')).toMatchObject({ status: 200, body: '{"user":null}' });
    expect(JSON.parse((await get(server, '/open', `Token ${key}`)).body).user.username).toBe('alice');
    const failed = await get(server, '/open', 'Token nope');
    expect(failed).toMatchObject({ status: 401, body: '{"detail":"Invalid token."}' });
    expect(failed.headers['www-authenticate']).toBe('Token');
  });

  it('answers 403 for a valid token without the scope, with no challenge', async () => {
    expect((await get(server, '/write', `Token ${key}`)).status).toBe(200);
    const reply = await get(server, '/write', `Token ${scopedKey}`);
    expect(reply).toMatchObject({ status: 403, body: '{"detail":"You do not have permission to perform this action."}' });
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['www-authenticate']).toBeUndefined();
  });

  it('fails closed with 503 and Retry-After, and keeps the cause out of the body', async () => {
    results.length = 0;
    const reply = await get(server, '/', `Token ${downKey}`);
    expect(reply.status).toBe(503);
    expect(reply.body).toBe('{"detail":"Authentication service unavailable."}');
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['retry-after']).toBe('7');
    expect(results).toHaveLength(1);
    expect(results[0]!.kind === 'unavailable' && results[0]!.cause).toBeInstanceOf(ProjectionUnavailableError);
  });
});

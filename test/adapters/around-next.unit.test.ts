import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupCallback, TokenRecord } from '../../src/domain/record.js';
import { requestAuthenticator } from '../../src/auth/adapter.js';
import type { KeyLookup } from '../../src/auth/verify.js';
import { digestKey, generateKey } from '../../src/domain/token-format.js';
import { tokenAuth as expressAuth } from '../../src/express/index.js';
import { tokenAuth as fastifyAuth } from '../../src/fastify/index.js';
import { tokenAuth as koaAuth, type AuthResult, type TokenAuthState } from '../../src/koa/index.js';
import { ProjectionUnavailableError } from '../../src/projection/port.js';
import { get, listen, type Listening } from '../koa/http.js';

// Each adapter's own behaviour around the rest of the chain, over real HTTP: what it puts on the
// request (ctx.state for Koa), and what it does with what follows it. The DRF table against real
// projection stores, for all three, is test/koa/drf-compat.int.test.ts.
const key = generateKey('tl', 'tl', (n) => randomBytes(n));
const scopedKey = generateKey('tl', 'tl', (n) => randomBytes(n));
const downKey = generateKey('tl', 'tl', (n) => randomBytes(n));
const alice: TokenRecord = {
  userId: 'u-alice',
  username: 'alice',
  active: true,
  isStaff: true,
  isSuperuser: false,
  tokenId: 't-1',
  name: 'ci',
  scopes: [],
  expiresAt: Date.parse('2031-02-03T04:05:06.007Z'),
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
/**
 * The same table behind `lookupWith`, the callback form the built-in projections have and the
 * adapters prefer: its promise form fails, so a request that reached it would not get its 200.
 */
const callbackProjection = {
  lookup(): Promise<TokenRecord | null> {
    return Promise.reject(new Error('the promise form was used'));
  },
  lookupWith(digest: string, callback: LookupCallback) {
    setImmediate(() => {
      if (digest === digestKey(downKey)) callback(new ProjectionUnavailableError('redis at 10.0.0.7:6379 refused the connection'));
      else callback(undefined, records.get(digest) ?? null);
    });
  },
};
const clock = () => Date.parse('2030-01-01T00:00:00Z');
const optionsFor = (lookups: KeyLookup) => ({
  optional: { projection: lookups, required: false, clock },
  required: { projection: lookups, clock, onResult: (r: AuthResult) => results.push(r), retryAfterSeconds: 7 },
  writer: { projection: lookups, clock, scopes: ['tokens:write'] },
  // An `onResult` that throws, after a lookup (a valid key) or at once (no header): the request fails, it is never let in.
  throwing: { projection: lookups, clock, onResult: throwingOnResult },
});
let thrown: unknown = new Error('onResult failed');
const throwingOnResult = (r: AuthResult) => {
  if (r.kind === 'valid' || r.kind === 'none') throw thrown;
};
const optionsOf = optionsFor(projection);

function koaServer(): Promise<Listening> {
  const app = new Koa<TokenAuthState>();
  const [optional, required, writer, throwing] = [koaAuth(optionsOf.optional), koaAuth(optionsOf.required), koaAuth(optionsOf.writer), koaAuth(optionsOf.throwing)];
  app.use(async (ctx, next) => {
    if (ctx.path === '/open') return optional(ctx, async () => void (ctx.body = { user: ctx.state.user ?? null }));
    if (ctx.path === '/write') return writer(ctx, async () => void (ctx.body = { ok: true }));
    if (ctx.path === '/boom') return required(ctx, async () => Promise.reject(new Error('downstream secret detail')));
    if (ctx.path === '/throwing') return throwing(ctx, async () => void (ctx.body = { admitted: true }));
    return required(ctx, next);
  });
  app.use((ctx) => void (ctx.body = { user: ctx.state.user, auth: ctx.state.auth }));
  app.silent = true;
  return listen(app);
}

async function expressServer(lookups: KeyLookup = projection): Promise<Listening> {
  const optionsOf = optionsFor(lookups);
  const app = express();
  app.get('/open', expressAuth(optionsOf.optional), (req, res) => void res.json({ user: req.user ?? null }));
  app.get('/write', expressAuth(optionsOf.writer), (_req, res) => void res.json({ ok: true }));
  app.get('/throwing', expressAuth(optionsOf.throwing), (_req, res) => void res.json({ admitted: true }));
  app.get('/boom', expressAuth(optionsOf.required), () => {
    throw new Error('downstream secret detail');
  });
  app.get('/', expressAuth(optionsOf.required), (req, res) => void res.json({ user: req.user, auth: req.auth }));
  // Express's default handler prints the stack in development; a production app has its own.
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ detail: 'error' }));
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return { port, url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

async function fastifyServer(lookups: KeyLookup = projection): Promise<Listening> {
  const optionsOf = optionsFor(lookups);
  const app = Fastify();
  // Fastify's default handler sends the error's message; a production app has its own.
  app.setErrorHandler((_error, _request, reply) => void reply.code(500).send({ detail: 'error' }));
  const scope = (options: object, path: string, handler: (request: any) => unknown) =>
    app.register(async (child) => {
      await child.register(fastifyAuth, options as never);
      child.get(path, async (request) => handler(request));
    });
  await scope(optionsOf.optional, '/open', (request) => ({ user: request.user }));
  await scope(optionsOf.writer, '/write', () => ({ ok: true }));
  await scope(optionsOf.required, '/boom', () => Promise.reject(new Error('downstream secret detail')));
  await scope(optionsOf.throwing, '/throwing', () => ({ admitted: true }));
  await scope(optionsOf.required, '/', (request) => ({ user: request.user, auth: request.auth }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return { port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

describe.each([
  ['koa', koaServer],
  ['express', () => expressServer()],
  ['express (lookupWith)', () => expressServer(callbackProjection)],
  ['fastify', () => fastifyServer()],
  ['fastify (lookupWith)', () => fastifyServer(callbackProjection)],
])('%s adapter around the rest of the chain', (_name, start) => {
  let server: Listening;
  beforeAll(async () => void (server = await start()));
  afterAll(() => server.close());

  it('puts the typed user and token on the request', async () => {
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
    expect(failed.headers['content-type']).toBe('application/json');
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

  it('an onResult that throws, after the lookup or at once, fails the request (500), and never lets it in, whatever it throws', async () => {
    try {
      for (const value of [new Error('onResult failed'), undefined, 0]) {
        thrown = value;
        for (const header of [`Token ${key}`, null]) {
          const reply = await get(server, '/throwing', header);
          expect(reply.status).toBe(500);
          expect(reply.body).not.toContain('admitted');
        }
      }
    } finally {
      thrown = new Error('onResult failed');
    }
  });
});

describe('a projection whose lookupWith answers before it returns (a synchronous one)', () => {
  const syncProjection = {
    lookup: (digest: string) => Promise.resolve(records.get(digest) ?? null),
    lookupWith: (digest: string, callback: LookupCallback) => callback(undefined, records.get(digest) ?? null),
  };

  it('decideWith returns the decision at once and never calls back', () => {
    const auth = requestAuthenticator({ projection: syncProjection, clock });
    const late: unknown[] = [];
    expect(auth.decideWith(`Token ${key}`, (...args) => late.push(args))).toMatchObject({ admit: true, user: { username: 'alice' } });
    expect(auth.decideWith(`Token ${generateKey('tl', 'tl', (n) => randomBytes(n))}`, (...args) => late.push(args))).toMatchObject({ admit: false });
    expect(late).toEqual([]);
  });

  it('Express: a handler that throws after the middleware let the request in is not answered by the middleware a second time', () => {
    const middleware = expressAuth({ projection: syncProjection, clock });
    const calls: unknown[] = [];
    const request = { headers: { authorization: `Token ${key}` } } as Parameters<typeof middleware>[0];
    const response = {} as Parameters<typeof middleware>[1];
    // A bare connect-style stack: next runs the rest of the chain, which throws back into it.
    expect(() =>
      middleware(request, response, (error?: unknown) => {
        calls.push(error ?? 'admitted');
        if (error === undefined) throw new Error('the route failed');
      }),
    ).toThrow('the route failed');
    expect(calls).toEqual(['admitted']);
    expect(request.user?.username).toBe('alice');
  });
});

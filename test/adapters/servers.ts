import { createServer, type Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { tokenAuth as expressAuth } from '../../src/express/index.js';
import { tokenAuth as fastifyAuth, tokenAuthHook } from '../../src/fastify/index.js';
import type { KeyLookup, TokenAuthOptions } from '../../src/koa/index.js';
import { whoamiApp } from '../koa/fixtures.js';
import { listen, type Listening } from '../koa/http.js';

export const FRAMEWORKS = ['koa', 'express', 'fastify'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

type Options = Omit<TokenAuthOptions, 'projection'>;

async function listenNode(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * The DRF peer's application on each framework, identically: `GET /api/whoami/` behind the
 * adapter (answers `{"username": …}`), `/api/write/` needing the `tokens:write` scope, and
 * `/api/open/` allowing anonymous requests. Every adapter gets the same options.
 */
export async function whoamiServer(framework: Framework, projection: KeyLookup, options: Options = {}): Promise<Listening> {
  if (framework === 'koa') return listen(whoamiApp(projection, options));
  if (framework === 'express') {
    const app = express();
    app.disable('x-powered-by');
    const whoami = expressAuth({ projection, ...options });
    const answer = (req: express.Request, res: express.Response) => void res.json({ username: req.user?.username ?? null });
    app.get('/api/write/', expressAuth({ projection, ...options, scopes: ['tokens:write'] }), answer);
    app.get('/api/open/', expressAuth({ projection, ...options, required: false }), answer);
    app.get('/api/whoami/', whoami, answer);
    return listenNode(createServer(app));
  }
  const app = Fastify();
  // The routes with a hook of their own: the properties are declared once, at the root.
  app.decorateRequest('user', null);
  app.decorateRequest('auth', null);
  await app.register(async (scoped) => {
    scoped.register(fastifyAuth, { projection, ...options });
    scoped.get('/api/whoami/', async (request) => ({ username: request.user?.username ?? null }));
  });
  const answer = async (request: { user: { username: string } | null }) => ({ username: request.user?.username ?? null });
  app.get('/api/write/', { onRequest: tokenAuthHook({ projection, ...options, scopes: ['tokens:write'] }) }, answer);
  app.get('/api/open/', { onRequest: tokenAuthHook({ projection, ...options, required: false }) }, answer);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return { port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}


// One server of the auth bench, in its own process: `node bench/auth-server.mjs <framework>-<bare|redis|memory>`
// (framework: koa, express or fastify; `bare|redis|memory` alone means koa). Settings come from the
// environment (TOKENLEDGER_STORE, TOKENLEDGER_REDIS_URL, _PREFIX). Prints `listening <port>` once the
// projection has caught up with the log. Every variant answers {"username":"alice"} from the same
// kind of handler: only the adapter in front of it differs from its framework's bare variant.
import { loadSettings } from '../dist/src/config.js';
import { openProjection } from '../dist/src/projection/open.js';

const [framework, mode] = process.argv[2].includes('-') ? process.argv[2].split('-') : ['koa', process.argv[2]];
if (!['bare', 'redis', 'memory'].includes(mode)) throw new Error(`unknown variant ${process.argv[2]}`);
let runtime = null;
let projection = null;
if (mode !== 'bare') {
  const env = { ...process.env };
  if (mode === 'memory') delete env.TOKENLEDGER_REDIS_URL;
  runtime = await openProjection(loadSettings({}, env));
  await runtime.projector.catchUp();
  runtime.projector.start();
  projection = runtime.store;
}

let close;
if (framework === 'koa') {
  const { default: Koa } = await import('koa');
  const { tokenAuth } = await import('../dist/src/koa/index.js');
  const app = new Koa();
  if (projection) app.use(tokenAuth({ projection }));
  app.use((ctx) => {
    ctx.body = { username: 'alice' };
  });
  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
  close = () => server.close();
} else if (framework === 'express') {
  const { default: express } = await import('express');
  const { tokenAuth } = await import('../dist/src/express/index.js');
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  if (projection) app.use(tokenAuth({ projection }));
  app.get('/', (_req, res) => void res.json({ username: 'alice' }));
  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
  close = () => server.close();
} else if (framework === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const { tokenAuth } = await import('../dist/src/fastify/index.js');
  const app = Fastify();
  if (projection) await app.register(tokenAuth, { projection });
  app.get('/', async () => ({ username: 'alice' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`listening ${app.server.address().port}\n`);
  close = () => app.close();
} else {
  throw new Error(`unknown framework ${framework} (koa, express, fastify)`);
}

process.on('SIGTERM', async () => {
  await close();
  await runtime?.close();
  process.exit(0);
});

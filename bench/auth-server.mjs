// One server of the auth bench, in its own process: `node bench/auth-server.mjs bare|redis|memory`.
// Settings come from the environment (TOKENLEDGER_STORE, TOKENLEDGER_REDIS_URL, _PREFIX).
// Prints `listening <port>` once the projection has caught up with the log.
import Koa from 'koa';
import { loadSettings } from '../dist/src/config.js';
import { tokenAuth } from '../dist/src/koa/index.js';
import { openProjection } from '../dist/src/projection/open.js';

const variant = process.argv[2];
const app = new Koa();
let runtime = null;

if (variant === 'redis' || variant === 'memory') {
  const env = { ...process.env };
  if (variant === 'memory') delete env.TOKENLEDGER_REDIS_URL;
  runtime = await openProjection(loadSettings({}, env));
  await runtime.projector.catchUp();
  runtime.projector.start();
  app.use(tokenAuth({ projection: runtime.store }));
} else if (variant !== 'bare') {
  throw new Error(`unknown variant ${variant} (bare, redis or memory)`);
}

// The same handler in all three variants: only tokenAuth in front of it differs.
app.use((ctx) => {
  ctx.body = { username: 'alice' };
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

process.on('SIGTERM', async () => {
  server.close();
  await runtime?.close();
  process.exit(0);
});

// A Koa app whose routes need a tokenledger key:   node examples/koa.mjs
// Make a key (same TOKENLEDGER_STORE):             tokenledger user create alice --no-password && tokenledger drf_create_token alice
// Call it:                                         curl -H "Authorization: Token <key>" http://127.0.0.1:3000/hello/
import Koa from 'koa';
import { loadSettings, openProjection } from 'tokenledger';
import { tokenAuth } from 'tokenledger/koa';

// TOKENLEDGER_STORE (default sqlite:./data/tokenledger.db) and, for a Redis projection, TOKENLEDGER_REDIS_URL.
const projection = await openProjection(loadSettings());
await projection.projector.catchUp();
projection.projector.start(); // follows the log: a key made or revoked later is seen within 250 ms

const app = new Koa();
app.use(tokenAuth({ projection: projection.store })); // 401/403/503 exactly as DRF's TokenAuthentication
app.use((ctx) => {
  ctx.body = { hello: ctx.state.user.username };
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
process.once('SIGTERM', () => server.close(() => projection.close()));
process.once('SIGINT', () => server.close(() => projection.close()));

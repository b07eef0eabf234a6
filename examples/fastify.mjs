// A Fastify app whose routes need a tokenledger key:   node examples/fastify.mjs
// Make a key (same TOKENLEDGER_STORE):                 tokenledger user create alice --no-password && tokenledger drf_create_token alice
// Call it:                                             curl -H "Authorization: Token <key>" http://127.0.0.1:3000/hello/
import Fastify from 'fastify';
import { loadSettings, openProjection } from 'tokenledger';
import { tokenAuth } from 'tokenledger/fastify';

// TOKENLEDGER_STORE (default sqlite:./data/tokenledger.db) and, for a Redis projection, TOKENLEDGER_REDIS_URL.
const projection = await openProjection(loadSettings());
await projection.projector.catchUp();
projection.projector.start(); // follows the log: a key made or revoked later is seen within 250 ms

const app = Fastify();
await app.register(tokenAuth, { projection: projection.store }); // 401/403/503 exactly as DRF's TokenAuthentication
app.get('/hello/', async (request) => ({ hello: request.user.username }));
app.addHook('onClose', () => projection.close());

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on http://127.0.0.1:${app.server.address().port}`);
process.once('SIGTERM', () => app.close());
process.once('SIGINT', () => app.close());

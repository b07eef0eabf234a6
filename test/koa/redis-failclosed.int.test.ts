import { failClosedSuite } from '../adapters/failclosed-suite.js';

// A stopped, frozen or emptied Redis behind the koa adapter: 503, never a 200 or a misleading 401.
await failClosedSuite('koa');

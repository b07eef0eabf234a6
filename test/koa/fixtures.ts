import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import Koa from 'koa';
import { defaultDeps, operator } from '../../src/app/context.js';
import { Ledger } from '../../src/app/ledger.js';
import { openEventStore } from '../../src/eventstore/open.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { tokenAuth, type KeyLookup, type TokenAuthOptions, type TokenAuthState } from '../../src/koa/index.js';

const ACTOR = operator({ actor: 'b2-tests', channel: 'cli', source: 'test-host' });

/**
 * The application the DRF peer serves (`GET /api/whoami/` behind TokenAuthentication +
 * IsAuthenticated), plus a route that needs a scope and one that allows anonymous users.
 */
export function whoamiApp(projection: KeyLookup, options: Omit<TokenAuthOptions, 'projection'> = {}): Koa<TokenAuthState> {
  const app = new Koa<TokenAuthState>();
  const whoami = tokenAuth({ projection, ...options });
  const writer = tokenAuth({ projection, ...options, scopes: ['tokens:write'] });
  const open = tokenAuth({ projection, ...options, required: false });
  app.use(async (ctx, next) => {
    if (ctx.path === '/api/write/') return writer(ctx, next);
    if (ctx.path === '/api/open/') return open(ctx, next);
    return whoami(ctx, next);
  });
  app.use((ctx) => {
    ctx.body = { username: ctx.state.user?.username ?? null };
  });
  return app;
}

/** A ledger on its own SQLite temp file; `at` moves the clock the ledger stamps events with. */
export async function tempLedger(): Promise<{ ledger: Ledger; store: EventStore; url: string; at(ms: number): void; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-b2-'));
  const url = `sqlite:${join(dir, 'events.db')}`;
  const store = await openEventStore(url);
  let offset = 0;
  const ledger = new Ledger({ ...defaultDeps(store, 'tl'), clock: () => new Date(Date.now() + offset) }, ACTOR);
  return {
    ledger,
    store,
    url,
    at: (ms) => void (offset = ms),
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis key prefix of its own, so test files never see each other's data. */
export const testPrefix = (what: string) => `tl-test:b2-${what}-${randomUUID().slice(0, 8)}:`;

/** Deletes every key under a prefix (on the shared Redis, after a test file). */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
    if ((batch as string[]).length > 0) await redis.del(...(batch as string[]));
  }
  redis.disconnect();
}

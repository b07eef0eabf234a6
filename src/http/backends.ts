import type { Logger } from 'pino';
import { openFollowingDirectory } from '../app/directory.js';
import { openLedger, type Ledger } from '../app/ledger.js';
import type { Settings } from '../config.js';
import { openProjection } from '../projection/open.js';
import type { ProjectionStore } from '../projection/port.js';
import type { Projector } from '../projection/projector.js';
import type { ReadinessCheck } from './routes/health.js';
import { OutageLog } from './outage-log.js';
import { LoginThrottle, MemoryThrottleStore } from './throttle.js';

/** How long a write in `serve` waits for a store lock held elsewhere, unless TOKENLEDGER_WRITE_WAIT says. */
export const SERVE_WRITE_WAIT_MS = 5_000;

/** What a running service holds open, and how to let it all go. */
export interface Backends {
  ledger: Ledger;
  projection: ProjectionStore;
  projector: Projector;
  throttle: LoginThrottle | null;
  checks: ReadinessCheck[];
  storeKind: string;
  close(): Promise<void>;
}

/**
 * Opens what `serve` runs on: the event store; the projection (Redis when configured, else
 * memory), caught up and following the log; the ledger, whose writes return once the projection
 * reflects them; the login throttle, in Redis beside the projection or in memory.
 */
export async function openBackends(settings: Settings, logger: Logger): Promise<Backends> {
  const closers: (() => Promise<void>)[] = [];
  let closing: Promise<void> | null = null;
  // Last opened, first closed.
  const close = () =>
    (closing ??= (async () => {
      for (const closer of closers.reverse()) await closer().catch((error) => logger.error({ err: error }, 'close failed'));
    })());
  try {
    // An outage is logged when it starts and when it ends, not at every failed round (review L7).
    const outage = new OutageLog(logger);
    const runtime = await openProjection(settings, {
      lookupTimeoutMs: settings.lookupTimeoutMs,
      onError: (error) => outage.failed('projector', error),
      onRecovered: () => outage.recovered('projector'),
    });
    closers.push(() => runtime.close());
    await runtime.projector.catchUp();
    runtime.projector.start();
    // The directory (lists, searches, counts) beside it, following the log with its own projector.
    const directory = await openFollowingDirectory(settings, runtime.events, {
      onError: (error) => logger.warn({ err: error }, 'directory projector round failed'),
    });
    closers.push(() => directory.close());
    // The ledger's writes return once this server's projectors have applied them (read-your-writes).
    // A write waiting for a lock another process holds gives up after a few seconds (503), not 30.
    const ledger = await openLedger({
      settings: { ...settings, writeWaitMs: settings.writeWaitMs ?? SERVE_WRITE_WAIT_MS },
      projection: runtime,
      directory,
    });
    closers.push(() => ledger.close());
    const checks: ReadinessCheck[] = [];
    let throttle: LoginThrottle | null = null;
    if (settings.loginThrottle && settings.redisUrl) {
      // Imported here, as the projection's Redis store is: a server on the memory projection never loads ioredis.
      const [{ closeRedis, connectRedis }, { RedisThrottleStore }] = await Promise.all([
        import('../projection/redis/client.js'),
        import('./throttle-redis.js'),
      ]);
      const redis = await connectRedis({
        url: settings.redisUrl,
        prefix: settings.redisPrefix,
        commandTimeoutMs: 500,
        connectTimeoutMs: 1_000,
        name: 'tokenledger-throttle',
      });
      closers.push(() => closeRedis(redis));
      throttle = new LoginThrottle(new RedisThrottleStore(redis, 'throttle:login:', settings.loginThrottle), Date.now);
      checks.push({ name: 'redis (login throttle)', check: () => throttle!.ping() });
    } else if (settings.loginThrottle) {
      throttle = new LoginThrottle(new MemoryThrottleStore(settings.loginThrottle), Date.now);
    }
    return {
      ledger,
      projection: runtime.store,
      projector: runtime.projector,
      throttle,
      checks,
      storeKind: settings.store.split(':', 1)[0]!,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

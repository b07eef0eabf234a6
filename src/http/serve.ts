import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { verifyPassword } from '../app/passwords/index.js';
import { ConfigError, type Settings } from '../config.js';
import { createApp, type App } from './app.js';
import { openBackends, type Backends } from './backends.js';
import { createLogger } from './logging.js';

export interface ServeOptions {
  settings: Settings;
  logger?: Logger;
  /** Stop on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  /** How long in-flight requests may take to finish once a stop began. Default 10 s. */
  drainTimeoutMs?: number;
}

/**
 * Time limits of every connection (review L4), for a JSON API whose bodies are at most 1 MiB:
 * the request headers must be in within 10 s, the whole request within 30 s, and an idle
 * keep-alive connection is closed after 5 s. Node checks the first two every second (its default
 * is every 30 s). docs/http.md#under-faults.
 */
export const SERVER_TIMEOUTS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
} as const;

/** A running `tokenledger serve`. */
export interface RunningServer {
  url: string;
  /** The Node HTTP server (its timeouts, its connections). */
  http: Server;
  app: App;
  backends: Backends;
  /** Stops gracefully (idempotent); resolves once everything is closed. */
  stop(): Promise<void>;
  /** Resolves once the server has stopped (after a signal or `stop()`). */
  readonly stopped: Promise<void>;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no such local address',
  ENOTFOUND: 'unknown host',
};

function listen(server: Server, settings: Settings): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const reason = LISTEN_ERRORS[error.code ?? ''] ?? error.code ?? error.message;
      reject(new ConfigError(`HOST/PORT: cannot listen on ${settings.host}:${settings.port} (${reason})`));
    };
    server.once('error', failed);
    server.listen(settings.port, settings.host, () => {
      server.off('error', failed);
      resolve(server.address() as AddressInfo);
    });
  });
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Closes the listener and waits for the requests in flight; after `ms`, cuts what is left. */
async function drain(server: Server, ms: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections idle right now are closed at once; busy ones after their response.
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn({ ms }, 'requests still in flight after the drain timeout: closing their connections');
    server.closeAllConnections();
  }, ms);
  await closed;
  clearTimeout(timer);
}

/**
 * SIGTERM and SIGINT start a graceful stop; a second signal ends the process the default way.
 * Returns the function that removes the handlers.
 */
function onSignals(logger: Logger, stop: () => Promise<void>): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received');
    void stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

/**
 * Starts the service of SPEC §5: opens the event store and the projection, catches the projection
 * up and keeps it following the log, and serves the app on HOST:PORT. A stop (SIGTERM, SIGINT or
 * `stop()`) refuses new connections, lets requests in flight finish (each answered with
 * `Connection: close`), then stops the projector and closes Redis and the store.
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { settings } = options;
  const logger = options.logger ?? createLogger();
  const backends = await openBackends(settings, logger);
  try {
    const app = createApp({ ...backends, settings, logger });
    // The dummy hash that unknown-user logins verify against is made now, not on the first login.
    await verifyPassword('', null);
    let draining = false;
    const handle = app.callback();
    const server = createServer({ ...SERVER_TIMEOUTS }, (req, res) => {
      if (draining) res.setHeader('Connection', 'close');
      void handle(req, res);
    });
    const address = await listen(server, settings);
    let stopping: Promise<void> | null = null;
    let removeHandlers = () => {};
    let markStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (markStopped = resolve));
    const stop = () =>
      (stopping ??= (async () => {
        removeHandlers();
        draining = true;
        logger.info('stopping: no new connections, finishing requests in flight');
        await drain(server, options.drainTimeoutMs ?? 10_000, logger);
        await backends.close();
        logger.info('stopped');
        logger.flush();
        markStopped();
      })());
    if (options.handleSignals ?? true) removeHandlers = onSignals(logger, stop);
    const url = urlOf(address);
    logger.info({ url, store: backends.storeKind, projection: backends.projection.backend }, 'listening');
    return { url, http: server, app, backends, stop, stopped };
  } catch (error) {
    await backends.close();
    throw error;
  }
}

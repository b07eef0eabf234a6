import Koa, { type Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Ledger } from '../app/ledger.js';
import { PasswordWork } from '../app/passwords/index.js';
import type { Settings } from '../config.js';
import type { ProjectionStore } from '../projection/port.js';
import { adminConsole } from '../admin/console.js';
import { tokenAuth } from '../koa/index.js';
import { LoginGate } from './login-gate.js';
import { createLogger } from './logging.js';
import { OutageLog } from './outage-log.js';
import { requestFrame } from './request-frame.js';
import { Metrics } from './metrics.js';
import { auditRoutes } from './routes/audit.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { loginHandler } from './routes/login.js';
import { logout, logoutAll, whoami } from './routes/session.js';
import { tokenRoutes } from './routes/tokens.js';
import { userRoutes } from './routes/users.js';
import { Routes, staffOnly, type RouteInfo } from './routing.js';
import { generateDocument, type SchemaOptions } from './openapi/generate.js';
import { docsAssets, schemaRoutes } from './openapi/serve.js';
import { LoginThrottle, MemoryThrottleStore } from './throttle.js';

export interface AppOptions {
  /** The write side: every change goes through it (and returns once the projection reflects it). */
  ledger: Ledger;
  /** The read side: the middleware's one lookup per request. */
  projection: ProjectionStore;
  settings: Settings;
  logger?: Logger;
  /** Epoch milliseconds, for token expiry and the login throttle. Default `Date.now`. */
  clock?: () => number;
  /** Default: in memory, at `settings.loginThrottle`; null disables it. */
  throttle?: LoginThrottle | null;
  /** Caps on password checks in flight (per client address and overall). Default: from `settings.passwordChecks`. */
  passwordWork?: PasswordWork;
  metrics?: Metrics;
  /** More readiness checks (Redis of the throttle, say). */
  checks?: ReadinessCheck[];
  /** Events the projection may trail the log by and still be ready. Default 100. */
  maxLag?: number;
}

/** The app and the parts its owner (the `serve` runtime, a test) may want to reach. */
export interface App extends Koa {
  metrics: Metrics;
  throttle: LoginThrottle | null;
  /** The one gate of every password login (throttle and password-work caps); the admin sign-in shares it. */
  loginGate: LoginGate;
  /** Every route the app answers (API and admin console): what the fuzz suite sends requests to. */
  routeTable(): RouteInfo[];
}

function defaultThrottle(settings: Settings, clock: () => number): LoginThrottle | null {
  return settings.loginThrottle ? new LoginThrottle(new MemoryThrottleStore(settings.loginThrottle), clock) : null;
}

/**
 * The `tokenledger serve` application (SPEC §5) as a Koa app: DRF's obtain-token endpoint, Knox's
 * logout and logoutall, whoami, the staff API, health and metrics, and the admin console. It opens and closes nothing:
 * its owner passes the ledger and projection in and closes them.
 */
export function createApp(options: AppOptions): App {
  const { ledger, projection, settings } = options;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? createLogger();
  const metrics =
    options.metrics ?? new Metrics(async () => Number((await ledger.store.headPosition()) - (await projection.checkpoint())));
  const throttle = options.throttle === undefined ? defaultThrottle(settings, clock) : options.throttle;
  const checks = settings.passwordChecks;
  const work = options.passwordWork ?? new PasswordWork({ perKey: checks.perAddress, ...(checks.overall === null ? {} : { overall: checks.overall }) });
  const gate = new LoginGate(throttle, work);

  // Backend outages are logged once per change of state, not once per request (review L7).
  const outage = new OutageLog(logger);
  const auth = tokenAuth({
    projection: metrics.timed(projection),
    keyword: settings.keyword,
    tokenPrefix: settings.tokenPrefix,
    clock,
    ...(settings.lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs: settings.lookupTimeoutMs }),
    onResult: (result) => {
      metrics.countAuth(result.kind);
      if (result.kind === 'unavailable') outage.failed('projection lookup', result.cause);
      else if (outage.anyDown) outage.recovered('projection lookup');
    },
  }) as Middleware;

  const routes = routeTable({ ledger, projection, settings, auth, metrics, gate, maxLag: options.maxLag ?? 100, checks: options.checks ?? [] });

  const app = new Koa() as App;
  app.metrics = metrics;
  // Behind N trusted reverse proxies, ctx.ip is the address the outermost one saw (the N-th entry of
  // X-Forwarded-For from the right); otherwise X-Forwarded-For is ignored. See clientAddress.
  app.proxy = settings.trustedProxies > 0;
  app.maxIpsCount = settings.trustedProxies;
  app.throttle = throttle;
  app.loginGate = gate;
  // Errors are answered and logged by requestFrame; Koa's own printer would only repeat them.
  app.silent = true;
  app.use(requestFrame(logger, metrics, outage));
  let adminRoutes: () => RouteInfo[] = () => [];
  if (settings.admin) {
    // The admin console (/admin/): sessions are tokens looked up in the same projection, sign-ins go through the same login gate.
    const admin = adminConsole({ ledger, projection, gate, tokenPrefix: settings.tokenPrefix, sessionTtlMs: settings.adminSessionTtlMs, loginLimit: settings.loginLimit, loginRate: settings.loginRate, clock, lookupTimeoutMs: settings.lookupTimeoutMs });
    adminRoutes = admin.routeTable;
    app.use(admin);
  }
  app.use(docsAssets(settings.schemaAccess === 'staff' ? composeGuards(schemaGuards(auth)) : null));
  app.use(routes.middleware());
  app.routeTable = () => [...routes.list(), ...adminRoutes()];
  return app;
}

function schemaGuards(auth: Middleware): Middleware[] {
  return [auth, staffOnly('schema')];
}

/** Guards in order, as one middleware. */
function composeGuards(guards: Middleware[]): Middleware {
  return guards.reduceRight<Middleware>((next, guard) => (ctx, after) => guard(ctx, () => next(ctx, after)), (_ctx, after) => after());
}

/** What the route table's handlers close over. */
export interface RouteTableDeps {
  ledger: Ledger;
  projection: ProjectionStore;
  settings: Settings;
  /** The token authentication guard (tokenAuth with the server's settings). */
  auth: Middleware;
  metrics: Metrics;
  gate: LoginGate;
  maxLag: number;
  checks: ReadinessCheck[];
}

/**
 * Every route of the HTTP API: what the server mounts, and what the OpenAPI document
 * (`/api/schema/`, `tokenledger generateschema`) is generated from.
 */
export function routeTable(deps: RouteTableDeps): Routes {
  const { ledger, projection, settings, auth, metrics, gate } = deps;
  const routes = new Routes();
  healthRoutes(routes, { store: ledger.store, projection, metrics, maxLag: deps.maxLag, checks: deps.checks });
  const policy = { ttlMs: settings.loginTtlMs, limit: settings.loginLimit, rate: settings.loginRate };
  routes.resource('/api-token-auth/', 'Obtain Auth Token', [], { POST: loginHandler({ ledger, policy, gate, metrics }) }, [
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'application/json',
  ]);
  routes.resource('/auth/logout/', 'Logout', [auth], { POST: logout(ledger) });
  routes.resource('/auth/logoutall/', 'Logout All', [auth], { POST: logoutAll(ledger) });
  routes.resource('/api/whoami/', 'Who Am I', [auth], { GET: whoami });
  userRoutes(routes, ledger, auth);
  tokenRoutes(routes, ledger, auth);
  auditRoutes(routes, ledger, auth);
  let document: unknown;
  schemaRoutes(routes, {
    document: () => (document ??= generateDocument(routes.entries, { keyword: settings.keyword })),
    guards: settings.schemaAccess === 'staff' ? schemaGuards(auth) : [],
  });
  return routes;
}

/**
 * The OpenAPI document of the server these settings configure, without a server: the route table
 * built over placeholders its handlers would use (none runs). `tokenledger generateschema` prints it.
 */
export function schemaDocument(settings: Settings, options: Omit<SchemaOptions, 'keyword'> = {}): Record<string, unknown> {
  const unused = {} as never;
  const routes = routeTable({
    ledger: { store: unused } as unknown as Ledger,
    projection: unused,
    settings,
    auth: (_ctx, next) => next(),
    metrics: unused,
    gate: unused,
    maxLag: 0,
    checks: [],
  });
  return generateDocument(routes.entries, { ...options, keyword: settings.keyword });
}

import type { Metrics } from '../metrics.js';
import { op, send, type Handler, type Routes } from '../routing.js';
import { Health, Ready, Unready } from './schemas.js';

/** A named dependency check for /readyz; it throws (or times out) when the dependency is not usable. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface HealthDeps {
  /** The event log: where its head is. */
  store: { headPosition(): Promise<bigint>; lastWriteFailure?(): { at: number; message: string } | null };
  /** The projection: how far it reflects the log, and which backend it is. */
  projection: { checkpoint(): Promise<bigint>; readonly backend: string };
  metrics: Metrics;
  /** Events the projection may trail the log by and still be ready. */
  maxLag: number;
  checks: ReadinessCheck[];
  timeoutMs?: number;
}

/** How long a failed write keeps /readyz at 503 when no write succeeds after it. */
export const WRITE_FAILURE_MS = 30_000;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `/readyz`: 200 with the positions, or 503 naming the first thing that is not ready. */
function readiness(deps: HealthDeps): Handler {
  const ms = deps.timeoutMs ?? 1_000;
  return async (ctx) => {
    const unready = (reason: string) => {
      ctx.set('Retry-After', '1');
      send(ctx, 503, { status: 'unavailable', detail: reason });
    };
    const [head, checkpoint] = await Promise.allSettled([within(deps.store.headPosition(), ms), within(deps.projection.checkpoint(), ms)]);
    if (head.status === 'rejected') return unready('event store unreachable');
    // A store that answers reads but failed its last write (locked elsewhere, disk full) is not ready
    // to serve logins; a failure older than WRITE_FAILURE_MS with no write since is forgotten.
    const failure = deps.store.lastWriteFailure?.();
    if (failure && Date.now() - failure.at < WRITE_FAILURE_MS) return unready('event store cannot write');
    if (checkpoint.status === 'rejected') return unready(`${deps.projection.backend} projection unreachable`);
    for (const { name, check } of deps.checks) {
      const ok = await within(check(), ms).then(
        () => true,
        () => false,
      );
      if (!ok) return unready(`${name} unreachable`);
    }
    const lag = Math.max(0, Number(head.value - checkpoint.value));
    if (lag > deps.maxLag) return unready(`projection is ${lag} events behind the log`);
    send(ctx, 200, { status: 'ready', head: Number(head.value), checkpoint: Number(checkpoint.value), lag });
  };
}

/**
 * The operator's routes, open to anyone (no keys involved): `/healthz` says the process
 * answers; `/readyz` says this replica can authenticate correctly (store and projection
 * reachable, projection caught up); `/metrics` is Prometheus text.
 */
export function healthRoutes(routes: Routes, deps: HealthDeps): void {
  const tags = ['operations'];
  routes.resource('/healthz', 'Health', [], {
    GET: op(
      { operationId: 'health', summary: 'Is the process answering?', tags, responses: { 200: { description: 'It is', schema: Health } } },
      async (ctx) => send(ctx, 200, { status: 'ok' }),
    ),
  });
  routes.resource('/readyz', 'Readiness', [], {
    GET: op(
      {
        operationId: 'readiness',
        summary: 'Can this replica authenticate correctly?',
        description: 'Store and projection reachable, the projection caught up with the log.',
        tags,
        responses: {
          200: { description: 'Ready', schema: Ready },
          503: { description: 'The first thing that is not ready', schema: Unready, headers: { 'Retry-After': 'Seconds to wait before asking again.' } },
        },
      },
      readiness(deps),
    ),
  });
  routes.resource('/metrics', 'Metrics', [], {
    GET: op(
      {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tags,
        responses: { 200: { description: 'Prometheus text exposition format', mediaType: 'text/plain' } },
      },
      async (ctx) => {
        ctx.set('Content-Type', deps.metrics.registry.contentType);
        ctx.body = await deps.metrics.registry.metrics();
      },
    ),
  });
}

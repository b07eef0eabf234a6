import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionStore } from '../projection/port.js';
import { FastHistogram, KeyedCounter } from './metric-types.js';

/** Every label value is from a closed set: no key, username, address or path ever becomes a label. */
export type LoginOutcome = 'success' | 'failure' | 'throttled' | 'busy' | 'invalid' | 'error';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A request method as a label: anything unusual is `other`, so clients cannot mint label values. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

/** The service's metrics, in a registry of its own (one per app, so tests can run several apps). */
export class Metrics {
  readonly registry = new Registry();
  private readonly auth: KeyedCounter;
  private readonly lookup: FastHistogram;
  private readonly logins: KeyedCounter;
  private readonly requests: KeyedCounter;

  /** `lag`: events in the log the projection does not reflect yet, read at scrape time. */
  constructor(lag: () => Promise<number>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tokenledger_process_' });
    this.auth = new KeyedCounter('tokenledger_authentications_total', 'Token authentications by result', this.registry, (result) => ({ result }));
    this.lookup = new FastHistogram(
      'tokenledger_projection_lookup_seconds',
      'Latency of one projection lookup (sha256(key) → record)',
      this.registry,
      [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    );
    this.logins = new KeyedCounter('tokenledger_logins_total', 'POST /api-token-auth/ outcomes', this.registry, (result) => ({ result }));
    this.requests = new KeyedCounter('tokenledger_http_requests_total', 'HTTP requests by method and status code', this.registry, (key) => {
      const [method, status] = key.split(' ');
      return { method: method!, status: status! };
    });
    new Gauge({
      name: 'tokenledger_projection_lag_events',
      help: 'Events in the log that the projection does not reflect yet (-1: unknown)',
      registers: [this.registry],
      async collect() {
        this.set(await lag().catch(() => -1));
      },
    });
  }

  countAuth(result: string): void {
    this.auth.inc(result);
  }

  countLogin(result: LoginOutcome): void {
    this.logins.inc(result);
  }

  countRequest(method: string, status: number): void {
    // The label key of each (method, status) is made once, not per request.
    let byStatus = this.requestKeys.get(method);
    if (byStatus === undefined) this.requestKeys.set(method, (byStatus = new Map()));
    let key = byStatus.get(status);
    if (key === undefined) byStatus.set(status, (key = `${methodLabel(method)} ${status}`));
    this.requests.inc(key);
  }

  private readonly requestKeys = new Map<string, Map<number, string>>();

  /** The read side of the projection (all the middleware gets), timing every lookup. */
  timed(projection: Pick<ProjectionStore, 'lookup'>): Pick<ProjectionStore, 'lookup'> {
    const histogram = this.lookup;
    return {
      lookup(digest) {
        const started = performance.now();
        const observe = () => histogram.observe((performance.now() - started) / 1000);
        return projection.lookup(digest).then(
          (record) => (observe(), record),
          (error: unknown) => {
            observe();
            throw error;
          },
        );
      },
    };
  }
}

import type { Metric, Registry } from 'prom-client';

/**
 * Counters and a histogram whose hot path is one Map or array update, formatted by prom-client
 * only at scrape time. Why: prom-client's own `inc(labels)`/`observe` hash the label object on
 * every call, every request. They register with the shape prom-client reads at scrape time, not
 * through its API: test/http/metric-types.unit.test.ts fails if an upgrade reads another shape.
 */
abstract class ScrapedMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric<string>);
  }

  abstract get(): Promise<unknown>;
}

/** A counter keyed by a string; `labels` turns a key into its label set (once per key). */
export class KeyedCounter extends ScrapedMetric {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly counts = new Map<string, number>();

  constructor(name: string, help: string, registry: Registry, private readonly labels: (key: string) => Record<string, string>) {
    super(name, help, registry);
  }

  inc(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  async get() {
    const values = [...this.counts].map(([key, value]) => ({ labels: this.labels(key), value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A histogram without labels, in seconds. */
export class FastHistogram extends ScrapedMetric {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(name: string, help: string, registry: Registry, private readonly buckets: readonly number[]) {
    super(name, help, registry);
    this.counts = new Float64Array(buckets.length);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count += 1;
    const i = this.buckets.findIndex((bound) => seconds <= bound);
    if (i >= 0) this.counts[i]! += 1;
  }

  async get() {
    let cumulative = 0;
    const values = this.buckets.map((le, i) => {
      cumulative += this.counts[i]!;
      return { labels: { le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` };
    });
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: `${this.name}_bucket` });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...values, { labels: {}, value: this.sum, metricName: `${this.name}_sum` }, { labels: {}, value: this.count, metricName: `${this.name}_count` }],
    };
  }
}

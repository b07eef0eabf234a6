import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram, KeyedCounter } from '../../src/http/metric-types.js';

// KeyedCounter and FastHistogram are not prom-client metrics: they register themselves with the
// shape prom-client reads at scrape time (name, help, type, aggregator, get()). An upgrade of
// prom-client that reads another shape fails here: /metrics must read exactly as prom-client's own.
describe("the service's metrics scrape as prom-client's own (guard)", () => {
  it('KeyedCounter: the text of a labelled Counter', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counter = new KeyedCounter('tl_test_total', 'Things by result', ours, (key) => ({ result: key }));
    const reference = new Counter({ name: 'tl_test_total', help: 'Things by result', labelNames: ['result'], registers: [theirs] });
    for (const result of ['valid', 'valid', 'not_found', 'valid', 'expired']) {
      counter.inc(result);
      reference.inc({ result });
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('KeyedCounter with two labels per key', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counter = new KeyedCounter('tl_requests_total', 'Requests', ours, (key) => {
      const [method, status] = key.split(' ');
      return { method: method!, status: status! };
    });
    const reference = new Counter({ name: 'tl_requests_total', help: 'Requests', labelNames: ['method', 'status'], registers: [theirs] });
    for (const [method, status] of [['GET', '200'], ['POST', '400'], ['GET', '200']] as const) {
      counter.inc(`${method} ${status}`);
      reference.inc({ method, status });
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('FastHistogram: the text of a Histogram with the same buckets', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const buckets = [0.001, 0.01, 0.1];
    const histogram = new FastHistogram('tl_lookup_seconds', 'Lookup latency', ours, buckets);
    const reference = new Histogram({ name: 'tl_lookup_seconds', help: 'Lookup latency', buckets, registers: [theirs] });
    for (const seconds of [0.0005, 0.001, 0.005, 0.05, 0.5, 0.002]) {
      histogram.observe(seconds);
      reference.observe(seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});

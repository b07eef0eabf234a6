import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_BATCH, auditPage, streamBatches } from '../../../src/app/audit/history.js';
import { SqliteEventStore } from '../../../src/eventstore/sqlite.js';
import type { RecordedEvent } from '../../../src/eventstore/port.js';
import { countingStore } from './counting-store.js';

describe('streamBatches against a brute-force merge', () => {
  it('forward and back, every cursor kind, streams of 0, 1, 499, 500, 501, 1000, 1200 events interleaved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-rev-'));
    const store = new SqliteEventStore(join(dir, 'events.db'));
    try {
      const lengths: Record<string, number> = { 'user-a': 1, 'user-b': 499, 'user-c': 500, 'user-d': 501, 'user-e': 1000, 'user-f': 1200, 'user-g': 0 };
      const left = { ...lengths };
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
      const other = 'other-x';
      for (;;) {
        const names = Object.keys(left).filter((n) => left[n]! > 0);
        if (names.length === 0) break;
        const n = names[rnd() % names.length]!;
        const k = Math.min(left[n]!, 1 + (rnd() % 30));
        await store.append(n, Array.from({ length: k }, () => ({ type: 'E', data: {}, metadata: {} })), 'any');
        left[n]! -= k;
        if (rnd() % 5 === 0) await store.append(other, [{ type: 'E', data: {}, metadata: {} }], 'any');
      }
      const all = await store.readAll({});
      const head = all.at(-1)!.position;
      const streamSets = [['user-g'], ['user-a'], ['user-c'], ['user-f'], ['user-b', 'user-c', 'user-d'], Object.keys(lengths), ['user-e', 'user-f', 'user-g']];
      const cursors = [0n, 1n, 2n, 250n, 499n, 500n, 501n, 1000n, 1500n, 2000n, head - 1n, head, head + 1n, head + 100n];
      const pos = (events: RecordedEvent[]) => events.map((e) => e.position);
      for (const streams of streamSets) {
        const mine = all.filter((e) => streams.includes(e.streamId));
        for (const c of cursors) {
          const fwd: RecordedEvent[] = [];
          for await (const b of streamBatches(store, streams, { after: c })) fwd.push(...b);
          expect(pos(fwd), `after ${c} ${streams}`).toEqual(pos(mine.filter((e) => e.position > c)));
          const back: RecordedEvent[] = [];
          for await (const b of streamBatches(store, streams, { before: c })) back.push(...b);
          expect(pos(back), `before ${c} ${streams}`).toEqual(pos(mine.filter((e) => e.position < c).reverse()));
        }
        const back: RecordedEvent[] = [];
        for await (const b of streamBatches(store, streams, { before: null })) back.push(...b);
        expect(pos(back)).toEqual(pos([...mine].reverse()));
        // Paging auditPage through the streams with a small reading limit: every event once.
        for (const [limit, scan] of [[3, 1_000_000], [1_000, 7], [5, 5]] as const) {
          const seen: bigint[] = [];
          let after = 0n;
          for (let guard = 0; guard < 10_000; guard++) {
            const page = await auditPage(store, { streams, after, limit: limit + 1 }, scan);
            const results = page.entries.slice(0, limit);
            seen.push(...results.map((e) => BigInt(e.position)));
            const next = page.entries.length > limit ? BigInt(results.at(-1)!.position) : page.end ? null : page.reached;
            if (next === null) break;
            expect(next).toBeGreaterThan(after);
            after = next;
          }
          expect(seen).toEqual(pos(mine));
        }
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a page over many streams reads about a batch, not a batch per stream', () => {
  it('?token=ci with 50 owners of 600 events each (the most a token name reads by streams): a page of 1, and the first batch newest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-rev-'));
    const store = new SqliteEventStore(join(dir, 'events.db'));
    try {
      const streams = Array.from({ length: 50 }, (_, i) => `user-u${i}`);
      for (const streamId of streams) {
        await store.append(streamId, Array.from({ length: 600 }, () => ({ type: 'TokenRotated', data: { name: 'ci' }, metadata: {} })), 'no_stream');
      }
      const { store: counted, read: counter } = countingStore(store);
      // What the HTTP route does for ?limit=1: limit + 1 matches wanted.
      const page = await auditPage(counted, { streams, after: 0n, limit: 2 });
      expect(page.entries.length).toBe(2);
      const forward = counter.events;
      counter.events = 0;
      // The admin console's history page (?token=ci) starts with this: its first batch, newest first.
      const first = await streamBatches(counted, streams, { before: null }).next();
      const backward = counter.events;
      // Forward from the start: the first reads share one batch (no probes at 0). Back from the end:
      // that too, and a few one-event reads per stream to find its end. Before, each stream's
      // first read was a whole batch: 25,000 events here.
      expect(forward).toBeLessThanOrEqual(AUDIT_BATCH + streams.length);
      expect(backward).toBeLessThanOrEqual(2_000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

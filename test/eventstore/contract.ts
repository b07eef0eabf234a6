import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, type EventStore, type NewEvent } from '../../src/eventstore/port.js';

/** How a contract run gets fresh, isolated stores. `url` opens the same store from another process. */
export interface StoreFactory {
  create(): Promise<{ store: EventStore; url: string }>;
}

const ev = (type: string, data: unknown = {}): NewEvent => ({ type, data, metadata: { actor: 'test' } });

function runWorker(url: string, streamId: string, count: number, tag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['test/helpers/append-worker.mjs', url, streamId, String(count), tag], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

/**
 * The EventStore contract. Every adapter runs exactly these tests, against the port only.
 */
export function eventStoreContract(name: string, factory: StoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    const open = async () => (await factory.create()).store;

    it('appends to a new stream and reads it back with revisions from 0', async () => {
      const store = await open();
      const result = await store.append('s-1', [ev('A', { n: 1 }), ev('B', { n: 2 })], 'no_stream');
      expect(result.nextExpectedRevision).toBe(1n);
      const events = await store.readStream('s-1');
      expect(events.map((e) => [e.type, e.revision, e.data])).toEqual([
        ['A', 0n, { n: 1 }],
        ['B', 1n, { n: 2 }],
      ]);
      expect(events[0]!.metadata).toEqual({ actor: 'test' });
      expect(result.position).toBe(events[1]!.position);
      await store.close();
    });

    it('reads a stream from a revision on (what a snapshot needs), inclusive', async () => {
      const store = await open();
      await store.append('s-from', [0, 1, 2, 3, 4].map((n) => ev('A', { n })), 'no_stream');
      expect((await store.readStream('s-from', { fromRevision: 3n })).map((e) => [e.revision, e.data])).toEqual([
        [3n, { n: 3 }],
        [4n, { n: 4 }],
      ]);
      expect(await store.readStream('s-from', { fromRevision: 5n })).toEqual([]);
      expect((await store.readStream('s-from', { fromRevision: 0n })).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
      expect(await store.readStream('s-none', { fromRevision: 2n })).toEqual([]);
      await store.close();
    });

    it('reads at most `limit` events of a stream, from any revision', async () => {
      const store = await open();
      await store.append('s-limit', [0, 1, 2, 3, 4].map((n) => ev('A', { n })), 'no_stream');
      expect((await store.readStream('s-limit', { limit: 2 })).map((e) => e.revision)).toEqual([0n, 1n]);
      expect((await store.readStream('s-limit', { fromRevision: 3n, limit: 1 })).map((e) => e.data)).toEqual([{ n: 3 }]);
      expect((await store.readStream('s-limit', { fromRevision: 3n, limit: 10 })).map((e) => e.revision)).toEqual([3n, 4n]);
      expect(await store.readStream('s-limit', { fromRevision: 5n, limit: 1 })).toEqual([]);
      expect(await store.readStream('s-none', { limit: 1 })).toEqual([]);
      await store.close();
    });

    it('reads many streams at once as readStream reads each, where the store can (readStreams)', async () => {
      const store = await open();
      if (!store.readStreams) return void (await store.close());
      await store.append('m-a', [ev('A', { n: 0 }), ev('B', { n: 1 })], 'no_stream');
      await store.append('m-b', [ev('C', { n: 2 })], 'no_stream');
      await store.append('m-a', [ev('D', { n: 3 })], 1n);
      // Stream ids that sort and look unlike the others, a quote among them (they travel as JSON).
      await store.append('m-"c', [ev('E', { n: 4 })], 'no_stream');
      const many = await store.readStreams(['m-b', 'm-none', 'm-a', 'm-"c', 'm-a']);
      for (const id of ['m-a', 'm-b', 'm-"c']) expect(many.get(id)).toEqual(await store.readStream(id));
      expect(many.get('m-a')!.map((e) => e.type)).toEqual(['A', 'B', 'D']);
      expect(many.get('m-none') ?? []).toEqual([]);
      expect((await store.readStreams([])).size).toBe(0);
      await store.close();
    });

    it('reads an unknown stream as empty', async () => {
      const store = await open();
      expect(await store.readStream('nobody')).toEqual([]);
      expect(await store.headPosition()).toBe(0n);
      await store.close();
    });

    it('enforces every expected state', async () => {
      const store = await open();
      await expect(store.append('s', [ev('A')], 'stream_exists')).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(store.append('s', [ev('A')], 0n)).rejects.toBeInstanceOf(ConcurrencyError);
      await store.append('s', [ev('A')], 'no_stream');
      await expect(store.append('s', [ev('B')], 'no_stream')).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(store.append('s', [ev('B')], 1n)).rejects.toBeInstanceOf(ConcurrencyError);
      await store.append('s', [ev('B')], 0n);
      await store.append('s', [ev('C')], 'stream_exists');
      await store.append('s', [ev('D')], 'any');
      await store.append('t', [ev('E')], 'any');
      expect((await store.readStream('s')).map((e) => e.type)).toEqual(['A', 'B', 'C', 'D']);
      await store.close();
    });

    it('leaves a stream untouched when an append is refused', async () => {
      const store = await open();
      await store.append('s', [ev('A')], 'no_stream');
      const head = await store.headPosition();
      await expect(store.append('s', [ev('X'), ev('Y')], 5n)).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.headPosition()).toBe(head);
      expect((await store.readStream('s')).map((e) => e.type)).toEqual(['A']);
      await store.close();
    });

    it('lets exactly one of many racing writers win a stream', async () => {
      const store = await open();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.append('race', [ev('Won', { i })], 'no_stream')),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
      expect(await store.readStream('race')).toHaveLength(1);
      await store.close();
    });

    it('orders all events globally and reads from a position', async () => {
      const store = await open();
      await store.append('a', [ev('A1')], 'no_stream');
      await store.append('b', [ev('B1'), ev('B2')], 'no_stream');
      await store.append('a', [ev('A2')], 0n);
      const all = await store.readAll();
      expect(all.map((e) => e.type)).toEqual(['A1', 'B1', 'B2', 'A2']);
      const positions = all.map((e) => e.position);
      expect([...positions].sort((x, y) => (x < y ? -1 : 1))).toEqual(positions);
      expect(new Set(positions).size).toBe(4);
      expect(await store.headPosition()).toBe(positions[3]);
      expect((await store.readAll({ after: positions[1]! })).map((e) => e.type)).toEqual(['B2', 'A2']);
      expect((await store.readAll({ after: positions[0]!, limit: 2 })).map((e) => e.type)).toEqual(['B1', 'B2']);
      expect(await store.readAll({ after: positions[3]! })).toEqual([]);
      await store.close();
    });

    it('reads the same events without metadata when asked to (metadata empty or whole, never wrong)', async () => {
      const store = await open();
      await store.append('a', [ev('A1'), ev('A2')], 'no_stream');
      await store.append('b', [ev('B1')], 'no_stream');
      const all = await store.readAll();
      const bare = await store.readAll({ metadata: false });
      expect(bare.map(({ metadata: _, ...rest }) => rest)).toEqual(all.map(({ metadata: _, ...rest }) => rest));
      bare.forEach((event, i) => expect([{}, all[i]!.metadata]).toContainEqual(event.metadata));
      expect((await store.readAll({ after: all[0]!.position, limit: 1, metadata: false })).map((e) => e.type)).toEqual(['A2']);
      await store.close();
    });

    it('keeps appends from two OS processes on one stream whole and ordered', async () => {
      const { store, url } = await factory.create();
      const codes = await Promise.all([runWorker(url, 'shared', 40, 'p1'), runWorker(url, 'shared', 40, 'p2')]);
      expect(codes).toEqual([0, 0]);
      const events = await store.readStream('shared');
      expect(events).toHaveLength(80);
      expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 80 }, (_, i) => BigInt(i)));
      for (const tag of ['p1', 'p2']) {
        const mine = events.map((e) => e.data as { tag: string; i: number }).filter((d) => d.tag === tag);
        expect(mine.map((d) => d.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      }
      await store.close();
    });
  });
}

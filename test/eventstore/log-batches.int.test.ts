import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logBatches, type LogBatchesOptions } from '../../src/eventstore/log-batches.js';
import type { ReadAllOptions, RecordedEvent } from '../../src/eventstore/port.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-log-batches-'));
const store = new SqliteEventStore(join(dir, 'events.db'));
const append = (n: number, stream = 'user-alice') =>
  store.append(stream, Array.from({ length: n }, () => ({ type: 'Noted', data: { n }, metadata: { at: 'now' } })), 'any');

beforeAll(async () => {
  await append(4);
  await append(3, 'user-bob');
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The positions of every batch, and the positions each read started after. */
async function walk(options: LogBatchesOptions, during?: () => Promise<unknown>) {
  const reads: bigint[] = [];
  const counting = {
    readAll: (read: ReadAllOptions = {}) => {
      reads.push(read.after ?? 0n);
      return store.readAll(read);
    },
  };
  const batches: number[][] = [];
  for await (const batch of logBatches(counting, options)) {
    batches.push(batch.map((event) => Number(event.position)));
    if (batches.length === 1) await during?.();
  }
  return { batches, reads };
}

describe('logBatches: the one walk over the log', () => {
  it('reads every event once, in order, in batches; by default a short batch ends the walk', async () => {
    expect(await walk({ batch: 3 })).toEqual({ batches: [[1, 2, 3], [4, 5, 6], [7]], reads: [0n, 3n, 6n] });
    expect(await walk({ batch: 7 })).toEqual({ batches: [[1, 2, 3, 4, 5, 6, 7]], reads: [0n, 7n] });
  });

  it('starts after a position, and leaves metadata out when asked', async () => {
    expect((await walk({ batch: 3, after: 5n })).batches).toEqual([[6, 7]]);
    const { value: bare } = await logBatches(store, { batch: 2, metadata: false }).next();
    expect(bare!.map((e: RecordedEvent) => [e.type, e.metadata])).toEqual([['Noted', {}], ['Noted', {}]]);
    const { value: full } = await logBatches(store, { batch: 2 }).next();
    expect(full!.map((e: RecordedEvent) => e.metadata)).toEqual([{ at: 'now' }, { at: 'now' }]);
  });

  it("'empty': reads on past a short batch, and takes what was appended meanwhile", async () => {
    const { batches, reads } = await walk({ batch: 5, after: 4n, end: 'empty' }, () => append(2));
    expect(batches).toEqual([[5, 6, 7], [8, 9]]);
    expect(reads).toEqual([4n, 7n, 9n]);
  });

  it('a position: stops once a batch reaches it, and reads on past short batches until then', async () => {
    expect(await walk({ batch: 2, end: 3n })).toEqual({ batches: [[1, 2], [3, 4]], reads: [0n, 2n] });
    const head = Number(await store.headPosition());
    const { batches, reads } = await walk({ batch: 4, after: BigInt(head - 1), end: BigInt(head + 1) });
    // The head is short of the position: one more read, which comes back empty, ends the walk.
    expect(batches).toEqual([[head]]);
    expect(reads).toEqual([BigInt(head - 1), BigInt(head)]);
  });
});

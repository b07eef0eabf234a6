import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore/port.js';
import { rebuildProjection } from '../../src/projection/rebuild.js';
import { tempLedger } from '../app/ledger-fixture.js';
import { historyArb, runHistory } from './helpers/history.js';
import { comparable, expectedRecords, memoryKind, redisKind, withoutPositions, type StoreKind } from './helpers/stores.js';

async function readLog(events: { readAll(o: { after: bigint; limit: number }): Promise<RecordedEvent[]> }): Promise<RecordedEvent[]> {
  return events.readAll({ after: 0n, limit: 1_000_000 });
}

/** Cuts the log into consecutive batches of the given sizes (cycled). */
function chunks(log: RecordedEvent[], sizes: number[]): RecordedEvent[][] {
  const out: RecordedEvent[][] = [];
  for (let i = 0, k = 0; i < log.length; k++) {
    const size = sizes[k % sizes.length]!;
    out.push(log.slice(i, i + size));
    i += size;
  }
  return out;
}

for (const [kind, runs] of [
  [memoryKind(), 60],
  [redisKind('prop'), 20],
] as [StoreKind, number][]) {
  describe(`${kind.name} projection: a fold of the log`, () => {
    afterAll(() => kind.cleanup());

    it('rebuild == incremental in any batches, applying twice changes nothing, and both match the domain fold', async () => {
      await fc.assert(
        fc.asyncProperty(historyArb(30), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), async (steps, sizes) => {
          const fixture = tempLedger();
          const incremental = await kind.create();
          const rebuilt = await kind.create();
          try {
            await runHistory(fixture.ledger, steps, (ms) => fixture.advance(ms));
            const log = await readLog(fixture.store);
            for (const batch of chunks(log, sizes)) {
              await incremental.apply(batch);
              await incremental.apply(batch);
            }
            const once = comparable(await incremental.dump());
            await incremental.apply(log);
            expect(comparable(await incremental.dump())).toEqual(once);

            await rebuildProjection(fixture.store, rebuilt, { readBatch: 5, flushEvery: 4 });
            expect(comparable(await rebuilt.dump())).toEqual(once);
            expect(once.checkpoint).toBe(log.at(-1)!.position);
            expect(withoutPositions((await rebuilt.dump()).records)).toEqual(await expectedRecords(fixture.store));

            // A rebuild over a live projection replaces it with the same thing.
            await rebuildProjection(fixture.store, incremental, { readBatch: 3, flushEvery: 2 });
            expect(comparable(await incremental.dump())).toEqual(once);
          } finally {
            await incremental.close();
            await rebuilt.close();
            await fixture.dispose();
          }
        }),
        { numRuns: runs },
      );
    });
  });
}

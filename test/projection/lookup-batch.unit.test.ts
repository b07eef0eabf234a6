import { describe, expect, it } from 'vitest';
import type { TokenRecord } from '../../src/domain/record.js';
import { LookupBatcher, type BatchAnswer } from '../../src/projection/lookup-batch.js';

const record = (name: string): TokenRecord => ({
  userId: 'u1',
  username: 'alice',
  active: true,
  isStaff: false,
  isSuperuser: false,
  tokenId: `t-${name}`,
  name,
  scopes: [],
  expiresAt: null,
  graceUntil: null,
});

/** A batcher over a table, remembering every read it was asked for. */
function over(answers: Record<string, BatchAnswer>, maxBatch?: number) {
  const reads: string[][] = [];
  const made = new LookupBatcher((digests) => {
    reads.push(digests);
    return digests.map((digest) => answers[digest] ?? null);
  }, maxBatch);
  return { batcher: made, reads };
}

describe('LookupBatcher', () => {
  it('reads the lookups of one turn together, after the turn, and answers each its own record', async () => {
    const { batcher, reads } = over({ a: record('a'), b: record('b') });
    const answers = Promise.all(['a', 'b', 'x'].map((digest) => batcher.lookup(digest)));
    expect(reads).toEqual([]);
    expect(await answers).toEqual([record('a'), record('b'), null]);
    expect(reads).toEqual([['a', 'b', 'x']]);
    await batcher.lookup('a');
    expect(reads).toEqual([['a', 'b', 'x'], ['a']]);
  });

  it('fails only the lookup whose answer is an error; a read that throws fails the whole turn', async () => {
    const corrupt = new Error('corrupt value');
    const { batcher } = over({ a: record('a'), bad: corrupt });
    const [good, bad] = await Promise.allSettled([batcher.lookup('a'), batcher.lookup('bad')]);
    expect(good).toEqual({ status: 'fulfilled', value: record('a') });
    expect(bad).toEqual({ status: 'rejected', reason: corrupt });

    const down = new Error('redis down');
    const failing = new LookupBatcher(() => Promise.reject(down));
    const settled = await Promise.allSettled([failing.lookup('a'), failing.lookup('b')]);
    expect(settled.map((s) => s.status === 'rejected' && s.reason)).toEqual([down, down]);
  });

  it('splits a burst larger than maxBatch into several reads', async () => {
    const { batcher, reads } = over({}, 2);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((digest) => batcher.lookup(digest)));
    expect(reads).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
});

import { describe, expect, it, vi } from 'vitest';
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

describe('LookupBatcher.lookupWith (the callback form)', () => {
  it('answers each callback once, in the batch read after the turn: (undefined, record) or (cause)', async () => {
    const corrupt = new Error('corrupt value');
    const { batcher, reads } = over({ a: record('a'), bad: corrupt });
    const calls: [string, unknown[]][] = [];
    for (const digest of ['a', 'x', 'bad']) batcher.lookupWith(digest, (...args) => calls.push([digest, args]));
    expect(calls).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual([['a', 'x', 'bad']]);
    expect(calls).toEqual([
      ['a', [undefined, record('a')]],
      ['x', [undefined, null]],
      ['bad', [corrupt, undefined]],
    ]);
  });

  it('a callback that throws does not keep the rest of its batch from their answers; its error is not swallowed', async () => {
    const rethrown: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => void rethrown.push(task));
    try {
      const { batcher } = over({ a: record('a'), b: record('b') });
      const answered: string[] = [];
      batcher.lookupWith('a', () => {
        throw new Error('an adapter bug');
      });
      batcher.lookupWith('b', (_cause, found) => answered.push(found!.name));
      const down = new LookupBatcher(() => Promise.reject(new Error('redis down')));
      down.lookupWith('a', () => {
        throw new Error('another bug');
      });
      down.lookupWith('b', (cause) => answered.push((cause as Error).message));
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(answered).toEqual(['b', 'redis down']);
      expect(rethrown).toHaveLength(2);
      expect(rethrown[0]).toThrow('an adapter bug');
      expect(rethrown[1]).toThrow('another bug');
    } finally {
      spy.mockRestore();
    }
  });

  it('lookup (the promise form) and lookupWith share one batch', async () => {
    const { batcher, reads } = over({ a: record('a') });
    let viaCallback: unknown;
    batcher.lookupWith('a', (_cause, found) => (viaCallback = found));
    expect(await batcher.lookup('b')).toBeNull();
    expect(viaCallback).toEqual(record('a'));
    expect(reads).toEqual([['a', 'b']]);
  });
});

import { describe, expect, it } from 'vitest';
import { EXPIRED_RETENTION_MS } from '../../projections/token-records.js';
import { outcomeOf } from '../../src/domain/record.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';
import { MemoryProjectionStore } from '../../src/projection/memory.js';
import { ProjectionGapError } from '../../src/projection/port.js';

const D1 = '1'.repeat(64);
const D2 = '2'.repeat(64);
const iso = (ms: number) => new Date(ms).toISOString();

function log(expiresAt: number | null, digest = D1): RecordedEvent[] {
  return [
    { type: 'UserRegistered', data: { userId: 'u-1', username: 'alice', isStaff: false, isSuperuser: false, passwordHash: null, at: iso(0) } },
    {
      type: 'TokenIssued',
      data: { tokenId: 't-1', name: 'default', kind: 'login', format: 'tl', digest, keyPrefix: 'tl_abcde', scopes: [], description: null, expiresAt: expiresAt === null ? null : iso(expiresAt), at: iso(0) },
    },
  ].map((event, i) => ({ ...event, streamId: 'user-alice', revision: BigInt(i), position: BigInt(i + 1), metadata: {} }));
}

describe('memory projection store', () => {
  it('answers "expired" for a week after expiry, then forgets the token as Redis does', async () => {
    const recent = new MemoryProjectionStore();
    await recent.apply(log(Date.now() - 60_000));
    expect(outcomeOf(await recent.lookup(D1), Date.now())).toBe('expired');

    const old = new MemoryProjectionStore();
    await old.apply(log(Date.now() - EXPIRED_RETENTION_MS - 60_000));
    expect(await old.lookup(D1)).toBeNull();
  });

  it('hands out records that cannot be changed by whoever reads them', async () => {
    const store = new MemoryProjectionStore();
    await store.apply(log(null));
    const record = (await store.lookup(D1))!;
    expect(() => (record.scopes as string[]).push('admin')).toThrow(TypeError);
    expect(Object.isFrozen(record)).toBe(true);
  });

  it('switches to a rebuild only when it is not behind, in one step', async () => {
    const store = new MemoryProjectionStore();
    await store.apply(log(null));
    const build = await store.beginRebuild();
    expect(await build.commit()).toBe(false);
    expect(await store.lookup(D1)).not.toBeNull();
    await build.apply(log(null, D2));
    expect(await build.commit()).toBe(true);
    expect(await store.lookup(D1)).toBeNull();
    expect(await store.lookup(D2)).not.toBeNull();
    await expect(build.commit()).rejects.toThrow(/already/);
  });

  it('clear forgets records and checkpoint', async () => {
    const store = new MemoryProjectionStore();
    await store.apply(log(null));
    await store.clear();
    expect(await store.checkpoint()).toBe(0n);
    expect(await store.lookup(D1)).toBeNull();
  });
});

describe('catching up a memory projection that is cleared half way', () => {
  it('refuses the batch that no longer follows, and the caller starts again from the checkpoint', async () => {
    const store = new MemoryProjectionStore();
    const events = log(null);
    await store.apply(events.slice(0, 1), 0n);
    await store.clear();
    await expect(store.apply(events.slice(1), events[0]!.position)).rejects.toBeInstanceOf(ProjectionGapError);
    expect(await store.checkpoint()).toBe(0n);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultOverall, hashPassword, PasswordWork, verifyPassword, type Admission } from '../../../src/app/passwords/index.js';

const granted = (admissions: Admission[]) => admissions.filter((a): a is Extract<Admission, { ok: true }> => a.ok);
const refusedBy = (admissions: Admission[], limit: 'per_key' | 'overall') => admissions.filter((a) => !a.ok && a.limit === limit).length;

describe('PasswordWork', () => {
  it('a burst of 150 logins from one address: two run, 148 are refused at once by the per-key cap', async () => {
    const work = new PasswordWork({ overall: 8, perKey: 2 });
    const stored = await hashPassword('wonderland-123');
    let running = 0;
    let most = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const admission = work.tryAcquire('203.0.113.7');
        if (!admission.ok) return admission.limit;
        try {
          running++;
          most = Math.max(most, running);
          return (await verifyPassword(`guess-${i}`, stored)).ok ? 'right' : 'wrong';
        } finally {
          running--;
          admission.release();
        }
      }),
    );
    expect(outcomes.filter((o) => o === 'per_key')).toHaveLength(148);
    expect(outcomes.filter((o) => o === 'wrong')).toHaveLength(2);
    expect(most).toBe(2);
    expect(work.inFlight).toBe(0);
    // Once released, the address may try again.
    expect(work.tryAcquire('203.0.113.7').ok).toBe(true);
  });

  it('150 logins from 150 addresses: the overall cap admits its number, the rest are refused as overall', () => {
    const work = new PasswordWork({ overall: 8, perKey: 2 });
    const admissions = Array.from({ length: 150 }, (_, i) => work.tryAcquire(`198.51.100.${i}`));
    expect(granted(admissions)).toHaveLength(8);
    expect(refusedBy(admissions, 'overall')).toBe(142);
    expect(work.inFlight).toBe(8);
    granted(admissions)[0]!.release();
    expect(work.tryAcquire('192.0.2.1').ok).toBe(true);
    expect(work.tryAcquire('192.0.2.2')).toEqual({ ok: false, limit: 'overall' });
  });

  it('a flooding key is told per_key even when the service is also full', () => {
    const work = new PasswordWork({ overall: 3, perKey: 2 });
    work.tryAcquire('a');
    work.tryAcquire('a');
    work.tryAcquire('b');
    expect(work.tryAcquire('a')).toEqual({ ok: false, limit: 'per_key' });
    expect(work.tryAcquire('c')).toEqual({ ok: false, limit: 'overall' });
  });

  it('a release called twice frees one slot, not two', () => {
    const work = new PasswordWork({ overall: 2, perKey: 2 });
    const first = work.tryAcquire('a');
    const second = work.tryAcquire('a');
    if (!first.ok || !second.ok) throw new Error('expected two admissions');
    first.release();
    first.release();
    expect(work.inFlight).toBe(1);
    expect(work.tryAcquire('a').ok).toBe(true);
    expect(work.tryAcquire('a')).toEqual({ ok: false, limit: 'per_key' });
  });

  it('acquires and releases interleaved over many keys never pass either cap, refuse only at a cap, and end with nothing held', () => {
    // Random interleavings, generated rather than left to timers (which a loaded machine batches).
    const step = fc.record({ release: fc.boolean(), key: fc.integer({ min: 0, max: 12 }), pick: fc.nat() });
    fc.assert(
      fc.property(fc.array(step, { minLength: 50, maxLength: 400 }), (steps) => {
        const work = new PasswordWork({ overall: 5, perKey: 2 });
        const held = new Map<string, number>();
        const open: { key: string; release: () => void }[] = [];
        for (const { release, key: k, pick } of steps) {
          if (release && open.length > 0) {
            const [slot] = open.splice(pick % open.length, 1);
            held.set(slot!.key, held.get(slot!.key)! - 1);
            slot!.release();
            slot!.release(); // a second release changes nothing
            continue;
          }
          const key = `key-${k}`;
          const admission = work.tryAcquire(key);
          const mine = held.get(key) ?? 0;
          if (mine >= 2) expect(admission).toEqual({ ok: false, limit: 'per_key' });
          else if (open.length >= 5) expect(admission).toEqual({ ok: false, limit: 'overall' });
          else {
            expect(admission.ok).toBe(true);
            if (admission.ok) open.push({ key, release: admission.release });
            held.set(key, mine + 1);
          }
          expect(work.inFlight).toBe(open.length);
          expect(work.inFlight).toBeLessThanOrEqual(5);
        }
        for (const slot of open.splice(0)) slot.release();
        expect(work.inFlight).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('defaults: twice libuv\'s thread pool (UV_THREADPOOL_SIZE, 4 unless set), two per key; rejects nonsense', () => {
    expect(defaultOverall({})).toBe(8);
    expect(defaultOverall({ UV_THREADPOOL_SIZE: '16' })).toBe(32);
    expect(defaultOverall({ UV_THREADPOOL_SIZE: 'lots' })).toBe(8);
    expect(new PasswordWork().perKey).toBe(2);
    expect(new PasswordWork().overall).toBe(defaultOverall());
    expect(() => new PasswordWork({ perKey: 0 })).toThrow(RangeError);
    expect(() => new PasswordWork({ overall: 1.5 })).toThrow(RangeError);
  });
});

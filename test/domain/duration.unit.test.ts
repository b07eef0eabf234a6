import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration } from '../../src/domain/index.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const unit = fc.constantFrom(...(Object.keys(UNIT_MS) as (keyof typeof UNIT_MS)[]));

describe('parseDuration', () => {
  it('reads the forms the CLI documents', () => {
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration(' 12h ')).toBe(43_200_000);
  });

  it('refuses what is not a duration', () => {
    for (const text of ['', ' ', '10', 'm', '-5m', '+5m', '1.5h', '10x', '10M', '1h 30m', '1h-30m', 'h1', '0x10s', 'Infinityd']) {
      expect(parseDuration(text), text).toBeNull();
    }
  });

  it('refuses more than 100 years, so expiry times stay 4-digit-year ISO strings', () => {
    expect(parseDuration('36500d')).toBe(MAX_DURATION_MS);
    expect(parseDuration('36500d1s')).toBeNull();
    expect(parseDuration('3000000d')).toBeNull();
    expect(parseDuration(`${'9'.repeat(30)}s`)).toBeNull();
  });

  it('sums any sequence of number-unit parts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(10_000), unit), { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map(([n, u]) => `${n}${u}`).join('');
        const total = parts.reduce((sum, [n, u]) => sum + n * UNIT_MS[u], 0);
        expect(parseDuration(text)).toBe(total <= MAX_DURATION_MS ? total : null);
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { boolOf, isoOf } from '../../src/import/source.js';

describe('reading Django values', () => {
  it('datetimes become tokenledger\'s ISO form in UTC, cut to milliseconds; values without a zone are UTC', () => {
    const cases: [unknown, string][] = [
      ['2026-11-30 05:37:31.296937', '2026-11-30T05:37:31.296Z'], // SQLite, USE_TZ=True
      ['2026-11-30T09:52:08.258Z', '2026-11-30T09:52:08.258Z'], // dumpdata
      ['2026-11-30T09:52:08.258', '2026-11-30T09:52:08.258Z'], // dumpdata, USE_TZ=False
      ['2026-11-30 05:37:31', '2026-11-30T05:37:31.000Z'],
      ['2026-11-30T05:37:31.2+00:00', '2026-11-30T05:37:31.200Z'],
      ['2026-11-30T05:37:31.296937+01:00', '2026-11-30T04:37:31.296Z'],
      [new Date(Date.UTC(2024, 4, 1, 10)), '2024-05-01T10:00:00.000Z'], // PostgreSQL's driver
    ];
    for (const [value, iso] of cases) expect(isoOf(value, 'date_joined'), String(value)).toBe(iso);
    for (const bad of ['yesterday', '2026-13-10 09:00:00', '2026-11-40 09:00:00', null, 42]) expect(() => isoOf(bad, 'date_joined')).toThrow('source: date_joined is not a date and time');
  });

  it('booleans as SQLite, PostgreSQL and JSON write them', () => {
    expect([1, true, '1', 't', 'true'].map(boolOf)).toEqual([true, true, true, true, true]);
    expect([0, false, '0', 'f', null, undefined].map(boolOf)).toEqual([false, false, false, false, false, false]);
  });
});

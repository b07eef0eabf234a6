import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../../projections/token-records.js';
import { ProjectionUnavailableError } from '../../../src/projection/port.js';
import { encodeRecord } from '../../../src/projection/redis/codec.js';
import { DecodedValues } from '../../../src/projection/redis/decoded-values.js';

const record = (name: string, position = 1): StoredRecord => ({
  userId: 'u1',
  username: 'alice',
  active: true,
  isStaff: false,
  isSuperuser: false,
  tokenId: 't1',
  name,
  scopes: ['tokens:read'],
  expiresAt: null,
  graceUntil: null,
  position,
});
const bytes = (value: StoredRecord | string) => Buffer.from(typeof value === 'string' ? value : encodeRecord(value));

describe('DecodedValues', () => {
  it('answers the same bytes of a digest with the record decoded the first time, frozen', () => {
    const cache = new DecodedValues();
    const first = cache.decode('d1', bytes(record('default')));
    expect(first).toMatchObject({ username: 'alice', name: 'default', scopes: ['tokens:read'] });
    expect(cache.decode('d1', bytes(record('default')))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first as StoredRecord).scopes)).toBe(true);
  });

  it('decodes again when the bytes changed, and forgets a digest whose value is gone', () => {
    const cache = new DecodedValues();
    const first = cache.decode('d1', bytes(record('default')));
    const changed = cache.decode('d1', bytes(record('renamed', 2)));
    expect(changed).toMatchObject({ name: 'renamed' });
    expect(cache.decode('d1', null)).toBeNull();
    const again = cache.decode('d1', bytes(record('default')));
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  it('fails only the lookup of a corrupt value, with the projection unavailable', () => {
    const cache = new DecodedValues();
    expect(cache.decode('bad', bytes('[1,"u1"'))).toBeInstanceOf(ProjectionUnavailableError);
    expect(cache.decode('good', bytes(record('default')))).toMatchObject({ name: 'default' });
  });

  it('keeps a copy of its own: a reply buffer reused afterwards changes nothing', () => {
    const cache = new DecodedValues();
    const reply = bytes(record('default'));
    const first = cache.decode('d1', reply);
    reply.fill(0x20);
    expect(cache.decode('d1', bytes(record('default')))).toBe(first);
  });

  it('holds at most `max` digests: the longest-held goes first', () => {
    const cache = new DecodedValues(2);
    const a = cache.decode('a', bytes(record('a')));
    const b = cache.decode('b', bytes(record('b')));
    cache.decode('c', bytes(record('c')));
    expect(cache.decode('b', bytes(record('b')))).toBe(b);
    expect(cache.decode('a', bytes(record('a')))).not.toBe(a);
  });
});

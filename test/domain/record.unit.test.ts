import { describe, expect, it } from 'vitest';
import { outcomeOf, type TokenRecord } from '../../src/domain/index.js';

const record: TokenRecord = {
  userId: 'u-1',
  username: 'alice',
  active: true,
  isStaff: false,
  isSuperuser: false,
  tokenId: 't-1',
  name: 'default',
  scopes: [],
  expiresAt: null,
  graceUntil: null,
};

describe('outcomeOf', () => {
  it('no record: not_found', () => expect(outcomeOf(null, 0)).toBe('not_found'));
  it('a live record: valid', () => expect(outcomeOf(record, 0)).toBe('valid'));
  it('expires at its expiry, not after', () => {
    expect(outcomeOf({ ...record, expiresAt: 100 }, 99)).toBe('valid');
    expect(outcomeOf({ ...record, expiresAt: 100 }, 100)).toBe('expired');
  });
  it('a superseded secret is unknown once its grace ends', () => {
    expect(outcomeOf({ ...record, graceUntil: 100 }, 99)).toBe('valid');
    expect(outcomeOf({ ...record, graceUntil: 100 }, 100)).toBe('not_found');
  });
  it('in DRF\'s order: unknown before expired before inactive before scopes', () => {
    const all = { ...record, active: false, expiresAt: 50, graceUntil: 40, scopes: ['a'] };
    expect(outcomeOf(all, 45, ['b'])).toBe('not_found');
    expect(outcomeOf({ ...all, graceUntil: null }, 60, ['b'])).toBe('expired');
    expect(outcomeOf({ ...all, graceUntil: null, expiresAt: null }, 60, ['b'])).toBe('inactive');
    expect(outcomeOf({ ...all, graceUntil: null, expiresAt: null, active: true }, 60, ['b'])).toBe('forbidden');
  });
  it('scopes: a token with scopes needs all the required ones; one without may do anything', () => {
    expect(outcomeOf({ ...record, scopes: ['tokens:read', 'users:read'] }, 0, ['tokens:read'])).toBe('valid');
    expect(outcomeOf({ ...record, scopes: ['tokens:read'] }, 0, ['tokens:read', 'tokens:write'])).toBe('forbidden');
    expect(outcomeOf(record, 0, ['anything'])).toBe('valid');
  });
});

import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, ledgerEventOf, userStreamId, usernameOfStream } from '../../src/domain/index.js';

describe('ledgerEventOf: a stored event as a domain event', () => {
  it('is the event itself for every type the domain knows', () => {
    for (const type of EVENT_TYPES) {
      const stored = { streamId: 'user-alice', type, data: { at: '2030-01-01T00:00:00.000Z' }, metadata: {} };
      expect(ledgerEventOf(stored)).toBe(stored);
    }
  });

  it('is null for a type this version does not know, so a fold skips it', () => {
    expect(ledgerEventOf({ type: 'UserTeleported', data: {} })).toBeNull();
    expect(ledgerEventOf({ type: 'tokenissued', data: {} })).toBeNull();
  });
});

describe('user streams', () => {
  it('name a user, and only user streams do', () => {
    expect(usernameOfStream(userStreamId('a.b+c@example.org'))).toBe('a.b+c@example.org');
    expect(usernameOfStream('vault-alice')).toBeNull();
  });
});

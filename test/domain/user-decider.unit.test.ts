import { describe, expect, it } from 'vitest';
import { evolve, initialState, liveDigests, type ImportedUser, type LedgerEvent, type TokenKind, type UserCommand } from '../../src/domain/index.js';
import { deciderSpec } from './decider-spec.js';

const { given } = deciderSpec('alice');

/** Minutes after a fixed instant, as the ISO strings the decider works with. */
const at = (minutes: number) => new Date(Date.UTC(2030, 0, 1) + minutes * 60_000).toISOString();

// ---- events -------------------------------------------------------------------------------
const registered: LedgerEvent = {
  type: 'UserRegistered',
  data: { userId: 'u-1', username: 'alice', isStaff: false, isSuperuser: false, passwordHash: null, at: at(0) },
};
const deactivated: LedgerEvent = { type: 'UserDeactivated', data: { at: at(1) } };

interface TokenOptions {
  name?: string;
  kind?: TokenKind;
  expiresAt?: string | null;
  minute?: number;
}
const issued = (digest: string, o: TokenOptions = {}): LedgerEvent => ({
  type: 'TokenIssued',
  data: {
    tokenId: `t-${digest}`,
    name: o.name ?? 'default',
    kind: o.kind ?? 'named',
    format: 'tl',
    digest,
    keyPrefix: `tl_${digest}`.slice(0, 8),
    scopes: [],
    description: null,
    expiresAt: o.expiresAt ?? null,
    at: at(o.minute ?? 2),
  },
});
const rotated = (from: string, to: string, minute: number, graceUntil: string | null, dropped: string[] = []): LedgerEvent => ({
  type: 'TokenRotated',
  data: { tokenId: 't-d1', name: 'default', digest: to, keyPrefix: `tl_${to}`.slice(0, 8), previousDigest: from, graceUntil, droppedDigests: dropped, at: at(minute) },
});
const revokedEvent = (digest: string, digests: string[], reason: string | null, minute: number, name = 'default'): LedgerEvent => ({
  type: 'TokenRevoked',
  data: { tokenId: `t-${digest}`, name, digests, reason, at: at(minute) },
});

// ---- commands -----------------------------------------------------------------------------
const register = (minute = 0): UserCommand => ({
  type: 'RegisterUser',
  data: { userId: 'u-1', username: 'alice', isStaff: false, isSuperuser: false, passwordHash: null, now: at(minute) },
});
const issue = (digest: string, minute: number, o: TokenOptions & { reset?: boolean; loginLimit?: number | null } = {}): UserCommand => {
  const { at: when, ...data } = issued(digest, { ...o, minute }).data as Extract<LedgerEvent, { type: 'TokenIssued' }>['data'];
  return { type: 'IssueToken', data: { ...data, reset: o.reset ?? false, loginLimit: o.loginLimit ?? null, now: when } };
};
const rotate = (digest: string, minute: number, graceMs = 0, name = 'default'): UserCommand => ({
  type: 'RotateToken',
  data: { name, digest, keyPrefix: `tl_${digest}`.slice(0, 8), graceMs, now: at(minute) },
});
const revoke = (minute: number, o: { name?: string | null; all?: boolean; reason?: string | null } = {}): UserCommand => ({
  type: 'RevokeToken',
  data: { name: o.name ?? null, all: o.all ?? false, reason: o.reason ?? null, now: at(minute) },
});
const now = (type: 'DeactivateUser' | 'ActivateUser', minute: number): UserCommand => ({ type, data: { now: at(minute) } });
const MIN = 60_000;

describe('user decider', () => {
  describe('when no user', () => {
    it('registers', () => given([]).when(register()).then([registered]));
    it('refuses a token with DRF\'s exact message', () =>
      given([]).when(issue('d1', 2)).thenThrows('user_not_found', 'Cannot create the Token: user alice does not exist'));
    it('refuses every other command with user_not_found', () => {
      for (const command of [
        { type: 'SetPassword', data: { passwordHash: null, now: at(1) } } as UserCommand,
        now('DeactivateUser', 1),
        now('ActivateUser', 1),
        { type: 'SetUserFlags', data: { isStaff: true, now: at(1) } } as UserCommand,
        rotate('d2', 3),
        revoke(3),
        revoke(3, { all: true }),
      ]) {
        given([]).when(command).thenThrows('user_not_found', 'User alice does not exist');
      }
    });
    it('evolve ignores events that come before the registration', () => {
      const state = [issued('d0'), deactivated, registered].reduce(evolve, initialState());
      expect(state).toEqual({ exists: true, userId: 'u-1', username: 'alice', active: true, isStaff: false, isSuperuser: false, passwordHash: null, createdAt: at(0), tokens: {}, recentLogins: [] });
      expect(evolve(initialState(), issued('d0'))).toEqual({ exists: false });
    });
  });

  describe('when registered', () => {
    it('refuses to register twice', () => given([registered]).when(register(5)).thenThrows('user_exists', 'User alice already exists'));
    it('sets a password hash', () =>
      given([registered])
        .when({ type: 'SetPassword', data: { passwordHash: '$scrypt$x', now: at(3) } })
        .then([{ type: 'UserPasswordSet', data: { passwordHash: '$scrypt$x', at: at(3) } }]));
    it('re-hashes the string a login verified, and only that one', () => {
      const withHash: LedgerEvent = { ...registered, data: { ...registered.data, passwordHash: 'pbkdf2_sha256$1$s$h' } } as LedgerEvent;
      const rehash = (verified: string): UserCommand => ({ type: 'RehashPassword', data: { verified, passwordHash: '$argon2id$new', now: at(3) } });
      const rehashed: LedgerEvent = { type: 'UserPasswordRehashed', data: { passwordHash: '$argon2id$new', at: at(3) } };
      given([withHash]).when(rehash('pbkdf2_sha256$1$s$h')).then([rehashed]);
      // Changed meanwhile, or re-hashed by a racing login: nothing left to upgrade.
      given([withHash]).when(rehash('pbkdf2_sha256$1$s$other')).then([]);
      given([withHash, rehashed]).when(rehash('pbkdf2_sha256$1$s$h')).then([]);
      expect([withHash, rehashed].reduce(evolve, initialState())).toMatchObject({ passwordHash: '$argon2id$new' });
      given([]).when(rehash('x')).thenThrows('user_not_found');
    });
    it('activating an active user changes nothing', () => given([registered]).when(now('ActivateUser', 3)).then([]));
    it('deactivates', () => given([registered]).when(now('DeactivateUser', 1)).then([deactivated]));
    it('changes only the flags it is given, and only when they change', () => {
      given([registered]).when({ type: 'SetUserFlags', data: { isStaff: false, now: at(3) } }).then([]);
      given([registered])
        .when({ type: 'SetUserFlags', data: { isSuperuser: true, now: at(3) } })
        .then([{ type: 'UserFlagsChanged', data: { isStaff: false, isSuperuser: true, at: at(3) } }]);
    });
    it('issues a token: only its digest, never a key', () => given([registered]).when(issue('d1', 2)).then([issued('d1')]));
    it('--reset without a token just issues one', () => given([registered]).when(issue('d1', 2, { reset: true })).then([issued('d1')]));
    it('cannot rotate or revoke a token it does not have', () => {
      given([registered]).when(rotate('d2', 3)).thenThrows('token_not_found', 'User alice has no token named default');
      given([registered]).when(revoke(3, { name: 'ci' })).thenThrows('token_not_found', 'User alice has no token named ci');
    });
    it('revoking all of no tokens is not an error', () => given([registered]).when(revoke(3, { all: true })).then([]));
  });

  describe('ImportUser', () => {
    const token = { tokenId: 't-drf', digest: 'd-drf', keyPrefix: '9944b091', createdAt: at(-50) };
    const imported = (o: Partial<ImportedUser> = {}): UserCommand => ({
      type: 'ImportUser',
      data: { userId: 'u-1', username: 'alice', active: true, isStaff: false, isSuperuser: false, passwordHash: 'pbkdf2_sha256$1$s$h', joinedAt: at(-100), token, overwrite: null, now: at(5), ...o },
    });
    const drfIssued: LedgerEvent = {
      type: 'TokenIssued',
      data: { tokenId: 't-drf', name: 'drf', kind: 'named', format: 'drf', digest: 'd-drf', keyPrefix: '9944b091', scopes: [], description: null, expiresAt: null, at: at(-50) },
    };
    const joined: LedgerEvent = { type: 'UserRegistered', data: { userId: 'u-1', username: 'alice', isStaff: false, isSuperuser: false, passwordHash: 'pbkdf2_sha256$1$s$h', at: at(-100) } };

    it('registers a new user at their join date with their key as token drf, in one decision', () =>
      given([]).when(imported()).then([joined, drfIssued]));
    it('an inactive user is deactivated in the same decision; no key, no token', () =>
      given([]).when(imported({ active: false, token: null })).then([joined, { type: 'UserDeactivated', data: { at: at(5) } }]));
    it('leaves an existing user as they are unless told to overwrite', () =>
      given([registered]).when(imported({ isStaff: true })).then([]));
    it('overwriting changes only what differs, replacing the drf token', () => {
      const old = issued('d-old', { name: 'drf' });
      given([registered, old])
        .when(imported({ isStaff: true, active: false, overwrite: { keepPassword: false } }))
        .then([
          { type: 'UserPasswordSet', data: { passwordHash: 'pbkdf2_sha256$1$s$h', at: at(5) } },
          { type: 'UserFlagsChanged', data: { isStaff: true, isSuperuser: false, at: at(5) } },
          { type: 'UserDeactivated', data: { at: at(5) } },
          { type: 'TokenRevoked', data: { tokenId: 't-d-old', name: 'drf', digests: ['d-old'], reason: 'replaced by import', at: at(5) } },
          drfIssued,
        ]);
      given([joined, drfIssued]).when(imported({ overwrite: { keepPassword: true } })).then([]);
      given([joined, drfIssued])
        .when(imported({ token: null, overwrite: { keepPassword: true } }))
        .then([{ type: 'TokenRevoked', data: { tokenId: 't-drf', name: 'drf', digests: ['d-drf'], reason: 'not in the import', at: at(5) } }]);
    });
  });

  describe('when deactivated', () => {
    it('deactivating again changes nothing', () => given([registered, deactivated]).when(now('DeactivateUser', 4)).then([]));
    it('activates', () =>
      given([registered, deactivated]).when(now('ActivateUser', 4)).then([{ type: 'UserActivated', data: { at: at(4) } }]));
    it('still issues tokens, as drf_create_token does (the middleware answers "inactive")', () =>
      given([registered, deactivated]).when(issue('d1', 2)).then([issued('d1')]));
  });

  describe('when token issued', () => {
    const history = [registered, issued('d1', { expiresAt: at(60) })];
    it('refuses a second one of that name, naming when, its key prefix and --reset', () => {
      const error = given(history).when(issue('d2', 5)).thenThrows('token_exists');
      expect(error.message).toContain(at(2));
      expect(error.message).toContain('tl_d1');
      expect(error.message).toContain('--reset');
      expect(error.message).not.toContain('d2');
      expect(error.details).toEqual({ username: 'alice', name: 'default', createdAt: at(2), keyPrefix: 'tl_d1' });
    });
    it('issues a token of another name beside it', () =>
      given(history).when(issue('d2', 5, { name: 'ci' })).then([issued('d2', { name: 'ci', minute: 5 })]));
    it('--reset revokes the old secret, then issues the new one', () =>
      given(history).when(issue('d2', 5, { reset: true })).then([revokedEvent('d1', ['d1'], 'reset', 5), issued('d2', { minute: 5 })]));
    it('rotates without grace: the old secret dies at once', () => given(history).when(rotate('d2', 5)).then([rotated('d1', 'd2', 5, null)]));
    it('rotates with grace', () => given(history).when(rotate('d2', 5, 10 * MIN)).then([rotated('d1', 'd2', 5, at(15))]));
    it('clamps the grace to the token\'s own expiry', () =>
      given(history).when(rotate('d2', 50, 30 * MIN)).then([rotated('d1', 'd2', 50, at(60))]));
    it('keeps name, scopes and expiry through a rotation', () => {
      const state = [...history, rotated('d1', 'd2', 5, null)].reduce(evolve, initialState());
      expect(state.exists && state.tokens.default).toMatchObject({ tokenId: 't-d1', digest: 'd2', expiresAt: at(60), createdAt: at(2), lastRotatedAt: at(5), previous: null });
    });
    it('revokes it by name, with the reason', () =>
      given(history).when(revoke(5, { reason: 'leaked' })).then([revokedEvent('d1', ['d1'], 'leaked', 5)]));
    it('revokes all tokens, one event each', () =>
      given([...history, issued('d2', { name: 'ci' })])
        .when(revoke(5, { all: true }))
        .then([revokedEvent('d1', ['d1'], null, 5), revokedEvent('d2', ['d2'], null, 5, 'ci')]));
  });

  describe('when rotated, in grace', () => {
    const history = [registered, issued('d1'), rotated('d1', 'd2', 5, at(15))];
    it('both secrets are live', () => {
      const state = history.reduce(evolve, initialState());
      expect(state.exists && liveDigests(state.tokens.default!, at(10))).toEqual(['d2', 'd1']);
    });
    it('rotating again drops the older secret', () => {
      given(history).when(rotate('d3', 8, 10 * MIN)).then([rotated('d2', 'd3', 8, at(18), ['d1'])]);
      const state = [...history, rotated('d2', 'd3', 8, at(18), ['d1'])].reduce(evolve, initialState());
      expect(state.exists && liveDigests(state.tokens.default!, at(9))).toEqual(['d3', 'd2']);
    });
    it('a rotation without grace ends both old secrets', () => given(history).when(rotate('d3', 8)).then([rotated('d2', 'd3', 8, null, ['d1'])]));
    it('revoking kills both secrets', () => given(history).when(revoke(9)).then([revokedEvent('d1', ['d2', 'd1'], null, 9)]));
    it('--reset kills both secrets', () =>
      given(history).when(issue('d3', 9, { reset: true })).then([revokedEvent('d1', ['d2', 'd1'], 'reset', 9), issued('d3', { minute: 9 })]));
  });

  describe('when rotated, grace over', () => {
    const history = [registered, issued('d1'), rotated('d1', 'd2', 5, at(15))];
    it('only the new secret is live', () => {
      const state = history.reduce(evolve, initialState());
      expect(state.exists && liveDigests(state.tokens.default!, at(15))).toEqual(['d2']);
    });
    it('rotating again drops nothing', () => given(history).when(rotate('d3', 20)).then([rotated('d2', 'd3', 20, null)]));
    it('revoking names only the live secret', () => given(history).when(revoke(20)).then([revokedEvent('d1', ['d2'], null, 20)]));
  });

  describe('when revoked', () => {
    const history = [registered, issued('d1'), revokedEvent('d1', ['d1'], null, 5)];
    it('the token is gone from the state', () => {
      const state = history.reduce(evolve, initialState());
      expect(state.exists && state.tokens).toEqual({});
    });
    it('cannot be rotated or revoked again', () => {
      given(history).when(rotate('d2', 6)).thenThrows('token_not_found');
      given(history).when(revoke(6)).thenThrows('token_not_found');
    });
    it('its name is free again without --reset', () => given(history).when(issue('d2', 6)).then([issued('d2', { minute: 6 })]));
  });

  describe('login limit', () => {
    const login = (digest: string, minute: number, expiresAt: string | null = null) =>
      issued(digest, { name: `login-${digest}`, kind: 'login', minute, expiresAt });
    const history = [registered, login('l1', 2), login('l2', 3), issued('n1', { name: 'ci', minute: 1 })];
    const newLogin = (limit: number | null) => issue('l3', 10, { name: 'login-l3', kind: 'login', loginLimit: limit });
    it('one login over the limit retires the oldest login, never a named token', () =>
      given(history).when(newLogin(2)).then([revokedEvent('l1', ['l1'], 'login limit', 10, 'login-l1'), login('l3', 10)]));
    it('a limit of one keeps only the new login', () =>
      given(history)
        .when(newLogin(1))
        .then([revokedEvent('l1', ['l1'], 'login limit', 10, 'login-l1'), revokedEvent('l2', ['l2'], 'login limit', 10, 'login-l2'), login('l3', 10)]));
    it('expired logins do not count', () =>
      given([registered, login('l1', 2, at(5)), login('l2', 3)]).when(newLogin(2)).then([login('l3', 10)]));
    it('no limit retires nothing', () => given(history).when(newLogin(null)).then([login('l3', 10)]));
    it('a reset login is revoked once, not also by the limit', () =>
      given(history)
        .when(issue('l4', 10, { name: 'login-l1', kind: 'login', reset: true, loginLimit: 2 }))
        .then([revokedEvent('l1', ['l1'], 'reset', 10, 'login-l1'), issued('l4', { name: 'login-l1', kind: 'login', minute: 10 })]));
  });
});

import { describe, expect, it } from 'vitest';
import {
  DomainError,
  EXPIRED_RETENTION_MS,
  RECENT_LOGINS_KEPT,
  decide,
  evolve,
  fold,
  initialState,
  type FoldCounts,
  type LedgerEvent,
  type PresentUser,
  type UserCommand,
  type UserState,
} from '../../src/domain/index.js';

const T0 = Date.UTC(2030, 0, 1);
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

const registered: LedgerEvent = {
  type: 'UserRegistered',
  data: { userId: 'u-1', username: 'alice', isStaff: false, isSuperuser: false, passwordHash: null, at: iso(0) },
};
const issued = (i: number, atMs: number, o: { ttlMs?: number | null; kind?: 'login' | 'named'; name?: string } = {}): LedgerEvent => ({
  type: 'TokenIssued',
  data: {
    tokenId: `t-${i}`,
    name: o.name ?? `login-${i}`,
    kind: o.kind ?? 'login',
    format: 'tl',
    digest: `d${i}`.padEnd(64, '0'),
    keyPrefix: 'tl_abcde',
    scopes: [],
    description: null,
    expiresAt: o.ttlMs === null ? null : iso(atMs + (o.ttlMs ?? 10 * HOUR)),
    at: iso(atMs),
  },
});
const deactivated = (atMs: number): LedgerEvent => ({ type: 'UserDeactivated', data: { at: iso(atMs) } });
const present = (state: UserState): PresentUser => {
  if (!state.exists) throw new Error('no user');
  return state;
};
const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
};

describe('expired tokens leave the folded state (a rule on each event\'s own time)', () => {
  const gone = 10 * HOUR + EXPIRED_RETENTION_MS; // a login token's expiry plus the retention week

  it('an event at or after expiry + retention drops the token; one before keeps it', () => {
    const base = [registered, issued(1, MIN)];
    expect(Object.keys(present(fold(initialState(), [...base, deactivated(MIN + gone - 1)])).tokens)).toEqual(['login-1']);
    expect(Object.keys(present(fold(initialState(), [...base, deactivated(MIN + gone)])).tokens)).toEqual([]);
  });

  it('a token without expiry never leaves by time', () => {
    const state = fold(initialState(), [registered, issued(1, MIN, { ttlMs: null, kind: 'named', name: 'ci' }), deactivated(100 * 365 * 86_400_000)]);
    expect(Object.keys(present(state).tokens)).toEqual(['ci']);
  });

  it('a name reissued after the old token went keeps the new token (the old one\'s due time is stale)', () => {
    const events = [registered, issued(1, MIN, { ttlMs: HOUR, kind: 'named', name: 'ci' }), issued(2, MIN + HOUR + EXPIRED_RETENTION_MS, { ttlMs: null, kind: 'named', name: 'ci' })];
    const state = present(fold(initialState(), [...events, deactivated(MIN + 2 * HOUR + EXPIRED_RETENTION_MS)]));
    expect(state.tokens.ci?.tokenId).toBe('t-2');
  });

  it('fold of many equals evolve one by one, and neither changes its input', () => {
    const events = [registered, ...Array.from({ length: 300 }, (_, i) => issued(i, i * 40 * MIN)), deactivated(400 * 40 * MIN)];
    const stepwise = events.reduce((state, event) => evolve(deepFreeze(state), event), initialState());
    const middle = deepFreeze(fold(initialState(), events.slice(0, 150)));
    expect(fold(middle, events.slice(150))).toEqual(stepwise);
    expect(fold(initialState(), events)).toEqual(stepwise);
  });

  it('decide sees the state as of the command\'s time: a token gone by then is not in the way', () => {
    const state = fold(initialState(), [registered, issued(1, MIN, { ttlMs: HOUR, kind: 'named', name: 'ci' })]);
    const issue = (nowMs: number): UserCommand => {
      const { at: _, ...data } = (issued(2, nowMs, { ttlMs: null, kind: 'named', name: 'ci' }) as Extract<LedgerEvent, { type: 'TokenIssued' }>).data;
      return { type: 'IssueToken', data: { ...data, reset: false, now: iso(nowMs) } };
    };
    // Expired but in its retention week: still there (it answers "Token has expired."), so the name is taken.
    expect(() => decide(issue(2 * HOUR), state, 'alice')).toThrow(DomainError);
    expect(decide(issue(MIN + HOUR + EXPIRED_RETENTION_MS), state, 'alice').map((e) => e.type)).toEqual(['TokenIssued']);
  });
});

describe('the fold is linear and its state bounded', () => {
  it('folding n TokenIssued copies no token map per event (10k and 30k)', () => {
    for (const n of [10_000, 30_000]) {
      const counts: FoldCounts = { tokensCopied: 0, eventsApplied: 0 };
      const events = [registered, ...Array.from({ length: n }, (_, i) => issued(i, i * 1000, { ttlMs: null, kind: 'named', name: `n${i}` }))];
      const state = present(fold(initialState(), events, counts));
      expect(counts).toEqual({ tokensCopied: 0, eventsApplied: n + 1 });
      expect(Object.keys(state.tokens)).toHaveLength(n);
    }
  });

  it('continuing a fold from a state copies that state\'s tokens once, however many events follow', () => {
    const start = fold(initialState(), [registered, ...Array.from({ length: 50 }, (_, i) => issued(i, i * 1000))]);
    const counts: FoldCounts = { tokensCopied: 0, eventsApplied: 0 };
    fold(start, Array.from({ length: 10_000 }, (_, i) => issued(100 + i, 60_000 + i * 1000)), counts);
    expect(counts).toEqual({ tokensCopied: 50, eventsApplied: 10_000 });
  });

  it('10,000 logins over 100 days leave only the tokens of the last 10 h + retention week in the state', () => {
    const every = 15 * MIN;
    const events = [registered, ...Array.from({ length: 10_000 }, (_, i) => issued(i, i * every))];
    const state = present(fold(initialState(), events));
    const bound = Math.ceil((10 * HOUR + EXPIRED_RETENTION_MS) / every);
    expect(Object.keys(state.tokens).length).toBeLessThanOrEqual(bound);
    expect(Object.keys(state.tokens).length).toBeGreaterThan(bound - 2);
    expect(state.recentLogins.length).toBeLessThanOrEqual(RECENT_LOGINS_KEPT);
  });

  it('the login times kept are bounded by count and by the last hour', () => {
    const burst = present(fold(initialState(), [registered, ...Array.from({ length: 500 }, (_, i) => issued(i, i))]));
    expect(burst.recentLogins).toHaveLength(RECENT_LOGINS_KEPT);
    expect(burst.recentLogins.at(-1)).toBe(iso(499));
    const later = present(fold(burst, [issued(900, 2 * HOUR)]));
    expect(later.recentLogins).toEqual([iso(2 * HOUR)]);
  });
});

describe('login rate (successful logins per user)', () => {
  const login = (i: number, nowMs: number): UserCommand => {
    const { at: _, ...data } = (issued(i, nowMs) as Extract<LedgerEvent, { type: 'TokenIssued' }>).data;
    return { type: 'IssueToken', data: { ...data, reset: false, loginRate: { limit: 3, windowMs: MIN }, now: iso(nowMs) } };
  };
  const history = [registered, issued(1, 10_000), issued(2, 20_000), issued(3, 30_000)];
  const state = fold(initialState(), history);

  it('refuses one login over the rate, saying when the next one may come', () => {
    let caught: unknown;
    try {
      decide(login(4, 40_000), state, 'alice');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).code).toBe('login_rate');
    // The oldest of the three leaves the window at 10 s + 60 s.
    expect((caught as DomainError).details.retryAfterMs).toBe(30_000);
  });

  it('allows it once the window has moved on, and never limits named tokens', () => {
    expect(decide(login(4, 70_000), state, 'alice').map((e) => e.type)).toEqual(['TokenIssued']);
    const named: UserCommand = { ...login(5, 40_000) } as UserCommand & { type: 'IssueToken' };
    (named as Extract<UserCommand, { type: 'IssueToken' }>).data.kind = 'named';
    expect(decide(named, state, 'alice').map((e) => e.type)).toEqual(['TokenIssued']);
  });
});

import { createHash } from 'node:crypto';

/**
 * A plain reference model of users and tokens, written from SPEC.md without the decider: maps
 * and numbers, no events. The property test runs the same commands through the Ledger and
 * compares.
 */

const MIN = 60_000;
/** The durations the generated commands use, in ms (kept apart from parseDuration on purpose). */
export const DURATIONS: Record<string, number> = { '5m': 5 * MIN, '30m': 30 * MIN, '45m': 45 * MIN, '2h': 120 * MIN };

export type Cmd =
  | { kind: 'register'; user: string; password: string | null; staff: boolean }
  | { kind: 'setPassword'; user: string; password: string | null }
  | { kind: 'deactivate' | 'activate'; user: string }
  | { kind: 'issue'; user: string; name: string; reset: boolean; expiresIn: string | null; format: 'tl' | 'drf'; scopes: string[] }
  | { kind: 'rotate'; user: string; name: string; grace: string | null }
  | { kind: 'revoke'; user: string; name: string }
  | { kind: 'revokeAll'; user: string };

export interface ModelToken {
  tokenId: string;
  format: 'tl' | 'drf';
  digest: string;
  keyPrefix: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  lastRotatedAt: number | null;
  previous: { digest: string; graceUntil: number } | null;
}

export interface ModelUser {
  userId: string;
  createdAt: number;
  active: boolean;
  isStaff: boolean;
  hasPassword: boolean;
  tokens: Map<string, ModelToken>;
}

export type ModelState = Map<string, ModelUser>;

/** What the system under test answered: the ids and keys it made up, which the model cannot. */
export interface Answer {
  userId?: string;
  tokenId?: string;
  key?: string;
}

export interface Expected {
  error: 'user_exists' | 'user_not_found' | 'token_exists' | 'token_not_found' | null;
  /** How many events the command appends. */
  events: number;
  revoked?: string[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const refuse = (error: NonNullable<Expected['error']>): Expected => ({ error, events: 0 });

/** Applies one command to the model at `now` (epoch ms) and says what the system should have done. */
export function apply(state: ModelState, cmd: Cmd, now: number, answer: Answer): Expected {
  const user = state.get(cmd.user);
  if (cmd.kind === 'register') {
    if (user) return refuse('user_exists');
    state.set(cmd.user, { userId: answer.userId!, createdAt: now, active: true, isStaff: cmd.staff, hasPassword: cmd.password !== null, tokens: new Map() });
    return { error: null, events: 1 };
  }
  if (!user) return refuse('user_not_found');
  switch (cmd.kind) {
    case 'setPassword':
      user.hasPassword = cmd.password !== null;
      return { error: null, events: 1 };
    case 'deactivate':
    case 'activate': {
      const wanted = cmd.kind === 'activate';
      const changed = user.active !== wanted;
      user.active = wanted;
      return { error: null, events: changed ? 1 : 0 };
    }
    case 'issue': {
      const existing = user.tokens.has(cmd.name);
      if (existing && !cmd.reset) return refuse('token_exists');
      user.tokens.set(cmd.name, {
        tokenId: answer.tokenId!,
        format: cmd.format,
        digest: sha256(answer.key!),
        keyPrefix: answer.key!.slice(0, 8),
        scopes: cmd.scopes,
        createdAt: now,
        expiresAt: cmd.expiresIn === null ? null : now + DURATIONS[cmd.expiresIn]!,
        lastRotatedAt: null,
        previous: null,
      });
      return { error: null, events: existing ? 2 : 1 };
    }
    case 'rotate': {
      const token = user.tokens.get(cmd.name);
      if (!token) return refuse('token_not_found');
      // The old secret lives on for the grace, never past the token's expiry; an older one dies.
      const graceUntil = cmd.grace === null ? null : Math.min(now + DURATIONS[cmd.grace]!, token.expiresAt ?? Infinity);
      token.previous = graceUntil === null ? null : { digest: token.digest, graceUntil };
      token.digest = sha256(answer.key!);
      token.keyPrefix = answer.key!.slice(0, 8);
      token.lastRotatedAt = now;
      return { error: null, events: 1 };
    }
    case 'revoke':
      if (!user.tokens.delete(cmd.name)) return refuse('token_not_found');
      return { error: null, events: 1, revoked: [cmd.name] };
    case 'revokeAll': {
      const names = [...user.tokens.keys()];
      user.tokens.clear();
      return { error: null, events: names.length, revoked: names };
    }
  }
}

export function cloneState(state: ModelState): ModelState {
  return new Map(
    [...state].map(([name, u]) => [
      name,
      { ...u, tokens: new Map([...u.tokens].map(([n, t]) => [n, { ...t, scopes: [...t.scopes], previous: t.previous && { ...t.previous } }])) },
    ]),
  );
}

/** SPEC §4's answer for a key at `at`: superseded or unknown, then expired, then inactive. */
export function verdict(state: ModelState, key: string, at: number): string {
  const digest = sha256(key);
  for (const user of state.values()) {
    for (const token of user.tokens.values()) {
      const current = token.digest === digest;
      const inGrace = token.previous?.digest === digest && at < token.previous.graceUntil;
      if (!current && !inGrace) continue;
      if (token.expiresAt !== null && at >= token.expiresAt) return 'expired';
      return user.active ? 'valid' : 'inactive';
    }
  }
  return 'not_found';
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The model in the shape `normalize` gives the folded log. */
export function view(state: ModelState) {
  return Object.fromEntries(
    [...state].map(([username, u]) => [
      username,
      {
        userId: u.userId,
        username,
        createdAt: iso(u.createdAt),
        active: u.active,
        isStaff: u.isStaff,
        isSuperuser: false,
        hasPassword: u.hasPassword,
        tokens: Object.fromEntries(
          [...u.tokens].map(([name, t]) => [
            name,
            {
              tokenId: t.tokenId,
              name,
              kind: 'named',
              format: t.format,
              digest: t.digest,
              keyPrefix: t.keyPrefix,
              scopes: t.scopes,
              description: null,
              createdAt: iso(t.createdAt),
              expiresAt: iso(t.expiresAt),
              lastRotatedAt: iso(t.lastRotatedAt),
              previous: t.previous && { digest: t.previous.digest, graceUntil: iso(t.previous.graceUntil) },
            },
          ]),
        ),
      },
    ]),
  );
}

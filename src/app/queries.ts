import {
  digestKey,
  evolve,
  initialState,
  keyShape,
  outcomeOf,
  recordOf,
  usernameOfStream,
  type LedgerEvent,
  type Outcome,
  type PresentUser,
  type TokenRecord,
  type UserState,
} from '../domain/index.js';
import type { EventStore } from '../eventstore/port.js';
import type { TokenView, UserView } from './results.js';
import { tokenView } from './tokens.js';
import { userView } from './users.js';

const BATCH = 5_000;

/**
 * Every user as of `until` (ISO time, inclusive), folded from the log alone. Used by lists and
 * by time travel, so it keeps working when the projection is gone.
 */
export async function foldLog(store: EventStore, until?: string): Promise<Map<string, PresentUser>> {
  const states = new Map<string, UserState>();
  for (let after = 0n; ; ) {
    const batch = await store.readAll({ after, limit: BATCH });
    for (const event of batch) {
      const username = usernameOfStream(event.streamId);
      if (username === null) continue;
      if (until !== undefined && String(event.metadata.at) > until) continue;
      states.set(username, evolve(states.get(username) ?? initialState(), event as unknown as LedgerEvent));
    }
    if (batch.length < BATCH) break;
    after = batch.at(-1)!.position;
  }
  const users = new Map<string, PresentUser>();
  for (const [name, state] of states) if (state.exists) users.set(name, state);
  return users;
}

export async function listUsers(store: EventStore): Promise<UserView[]> {
  return [...(await foldLog(store)).values()].map(userView).sort((a, b) => a.username.localeCompare(b.username));
}

/** Live tokens (of one user or all), as of now or as of `at`. */
export async function listTokens(store: EventStore, options: { username?: string; at?: string } = {}): Promise<TokenView[]> {
  const users = await foldLog(store, options.at);
  const selected = options.username ? [users.get(options.username)].filter((u) => u !== undefined) : [...users.values()];
  const now = options.at ?? new Date().toISOString();
  return selected
    .flatMap((user) => Object.values(user.tokens).map((t) => tokenView(user.username, t)))
    .filter((t) => options.at === undefined || t.expiresAt === null || t.expiresAt > now)
    .sort((a, b) => a.username.localeCompare(b.username) || a.createdAt.localeCompare(b.createdAt));
}

export interface Verdict {
  outcome: Outcome;
  at: string;
  username: string | null;
  name: string | null;
  reason: string;
}

function recordFor(user: PresentUser, digest: string): TokenRecord | null {
  for (const token of Object.values(user.tokens)) {
    const graceUntil = token.previous?.digest === digest ? Date.parse(token.previous.graceUntil) : null;
    if (token.digest !== digest && graceUntil === null) continue;
    return recordOf(user, token, graceUntil);
  }
  return null;
}

const REASONS: Record<Outcome, string> = {
  valid: 'valid',
  not_found: 'Invalid token.',
  expired: 'Token has expired.',
  inactive: 'User inactive or deleted.',
  forbidden: 'You do not have permission to perform this action.',
  unavailable: 'Authentication service unavailable.',
};

/** Whether `key` opened the door at `at` (default now), and why, from the log alone. */
export async function verifyKey(store: EventStore, tokenPrefix: string, key: string, at: Date): Promise<Verdict> {
  const iso = at.toISOString();
  if (keyShape(key, tokenPrefix) === 'tl_bad_checksum') {
    return { outcome: 'not_found', at: iso, username: null, name: null, reason: 'Invalid token. (checksum mismatch: mistyped or made up)' };
  }
  const digest = digestKey(key);
  let record: TokenRecord | null = null;
  for (const user of (await foldLog(store, iso)).values()) {
    record = recordFor(user, digest);
    if (record) break;
  }
  const outcome = outcomeOf(record, at.getTime());
  const reason = outcome === 'valid' ? `valid: token "${record!.name}" of user ${record!.username}` : REASONS[outcome];
  return { outcome, at: iso, username: record?.username ?? null, name: record?.name ?? null, reason };
}

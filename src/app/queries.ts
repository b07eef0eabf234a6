import {
  digestKey,
  UserFold,
  keyShape,
  ledgerEventOf,
  OUTCOME_MESSAGES,
  outcomeOf,
  recordOf,
  usernameOfStream,
  type Outcome,
  type PresentUser,
  type TokenRecord,
} from '../domain/index.js';
import { logBatches } from '../eventstore/log-batches.js';
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
  const states = new Map<string, UserFold>();
  for await (const batch of logBatches(store, { batch: BATCH })) {
    for (const recorded of batch) {
      const username = usernameOfStream(recorded.streamId);
      const event = ledgerEventOf(recorded);
      if (username === null || event === null) continue;
      if (until !== undefined && String(recorded.metadata.at) > until) continue;
      let user = states.get(username);
      if (!user) states.set(username, (user = new UserFold()));
      user.apply(event);
    }
  }
  const users = new Map<string, PresentUser>();
  for (const [name, { state }] of states) if (state.exists) users.set(name, state);
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

/** Whether `key` opened the door at `at` (default now), and why, from the log alone. */
export async function verifyKey(store: EventStore, tokenPrefix: string, key: string, at: Date): Promise<Verdict> {
  const iso = at.toISOString();
  if (keyShape(key, tokenPrefix) === 'tl_bad_checksum') {
    return { outcome: 'not_found', at: iso, username: null, name: null, reason: `${OUTCOME_MESSAGES.not_found} (checksum mismatch: mistyped or made up)` };
  }
  const digest = digestKey(key);
  let record: TokenRecord | null = null;
  for (const user of (await foldLog(store, iso)).values()) {
    record = recordFor(user, digest);
    if (record) break;
  }
  const outcome = outcomeOf(record, at.getTime());
  const reason = outcome === 'valid' ? `valid: token "${record!.name}" of user ${record!.username}` : OUTCOME_MESSAGES[outcome];
  return { outcome, at: iso, username: record?.username ?? null, name: record?.name ?? null, reason };
}

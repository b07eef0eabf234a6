import { digestKey, keyShape, OUTCOME_MESSAGES, outcomeOf, recordOf, type Outcome, type PresentUser, type TokenRecord } from '../domain/index.js';
import type { DirectoryCounts, Page, TokenQuery, UserQuery } from '../directory/port.js';
import type { EventStore } from '../eventstore/port.js';
import { userStreamOf } from '../eventstore/vault/index.js';
import type { LedgerDeps } from './context.js';
import { guarded, type DirectoryAccess } from './directory.js';
import { userStateAt } from './execute.js';
import type { ListedToken, TokenView, UserView } from './results.js';
import { tokenView } from './tokens.js';
import { parse, usernameSchema } from './validation.js';

/*
 * Every question the CLI, the staff API and the admin console ask: lists, searches and counts from
 * the directory (src/directory), and questions about one user or one key from that user's own
 * stream. Nothing here reads the whole log.
 */

export type { DirectoryCounts, Page, TokenQuery, UserQuery };

/** `user list`, `GET /api/users/`: a page of users by username. */
export async function listUsers(directory: DirectoryAccess, query: UserQuery, now: Date): Promise<Page<UserView>> {
  const { store } = await directory.ready();
  return guarded(store.listUsers({ ...query, now: query.now ?? now.toISOString() }));
}

/** `token list`, `GET /api/tokens/`: a page of tokens by user, then creation; statuses as of `now`. */
export async function listTokens(directory: DirectoryAccess, query: TokenQuery, now: Date): Promise<Page<ListedToken>> {
  const { store } = await directory.ready();
  return guarded(store.listTokens({ ...query, now: query.now ?? now.toISOString() }));
}

/** Users (total, active, staff) and tokens by status, for dashboards. */
export async function counts(directory: DirectoryAccess, now: Date, withinMs?: number): Promise<DirectoryCounts> {
  const { store } = await directory.ready();
  return guarded(store.counts(now.toISOString(), withinMs));
}

/**
 * One user's tokens as their stream stood at `at` (ISO): names, prefixes and rotations as they were
 * then, without the ones not yet issued, already revoked or expired by then (by the stream's order
 * should servers' clocks have disagreed: see userStateAt). From the user's snapshot when `at` is
 * after it.
 */
export async function tokensAt(deps: Pick<LedgerDeps, 'store' | 'snapshots'>, username: string, at: string): Promise<TokenView[]> {
  const name = parse(usernameSchema, username, 'user');
  const state = await userStateAt(deps, await userStreamOf(deps.store, name), at);
  if (!state.exists) return [];
  return Object.values(state.tokens)
    .map((t) => tokenView(state.username, t))
    .filter((t) => t.expiresAt === null || t.expiresAt > at)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.tokenId.localeCompare(b.tokenId));
}

/**
 * Beyond this many owners, a token name's history is read from the log (whose pages have a reading
 * limit) rather than from their streams: a page of merged streams costs a few one-event reads per
 * stream to find where each starts, and a first read of each.
 */
const MAX_AUDIT_STREAMS = 50;

/**
 * The streams an audit query needs: the user's own (the query names it), or for a token name
 * alone the streams of the users that own (or owned) a token of that name or id, from the
 * directory. Undefined: the whole log.
 */
export async function auditStreams(
  store: EventStore,
  directory: DirectoryAccess,
  query: { user?: string; token?: string },
): Promise<string[] | undefined> {
  if (query.user !== undefined) return [await userStreamOf(store, query.user)];
  if (query.token === undefined) return undefined;
  const { store: rows } = await directory.ready();
  const streams = await guarded(rows.streamsWithToken(query.token, MAX_AUDIT_STREAMS + 1));
  return streams.length > MAX_AUDIT_STREAMS ? undefined : streams;
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

/**
 * Whether `key` opened the door at `at` (default now), and why: the directory's digest history
 * names the user that held the key's digest, and that user's stream alone, folded up to `at` (from
 * their snapshot when `at` is after it), gives the answer.
 */
export async function verifyKey(
  deps: Pick<LedgerDeps, 'store' | 'snapshots'>,
  directory: DirectoryAccess,
  tokenPrefix: string,
  key: string,
  at: Date,
): Promise<Verdict> {
  const iso = at.toISOString();
  if (keyShape(key, tokenPrefix) === 'tl_bad_checksum') {
    return { outcome: 'not_found', at: iso, username: null, name: null, reason: `${OUTCOME_MESSAGES.not_found} (checksum mismatch: mistyped or made up)` };
  }
  const digest = digestKey(key);
  const { store: rows } = await directory.ready();
  const holder = await guarded(rows.holderOf(digest));
  let record: TokenRecord | null = null;
  if (holder) {
    const state = await userStateAt(deps, holder.streamId, iso);
    if (state.exists) record = recordFor(state, digest);
  }
  const outcome = outcomeOf(record, at.getTime());
  const reason = outcome === 'valid' ? `valid: token "${record!.name}" of user ${record!.username}` : OUTCOME_MESSAGES[outcome];
  return { outcome, at: iso, username: record?.username ?? null, name: record?.name ?? null, reason };
}

import { scopeKey, searchKey } from '../../projections/directory.js';
import { EXPIRED_RETENTION_MS } from '../domain/expiry.js';
import { decodeCursor, pageSize, type Cursor } from './cursor.js';
import {
  DirectoryQueryError,
  TOKEN_STATUS_FILTERS,
  type DirectoryToken,
  type DirectoryUser,
  type TokenQuery,
  type TokenStatus,
  type UserQuery,
} from './port.js';

/**
 * The list queries as SQL both adapters run: keyset pagination over the indexes the schemas make
 * ((username, stream_id) for users, (username, created_at, token_id) for tokens), filters as
 * bound parameters, so a request reads at most a page (plus the rows its filters skip) and never
 * the log. Placeholders are written `?` and numbered for PostgreSQL by `numbered`.
 */
export interface Dialect {
  table(name: 'users' | 'tokens' | 'digests' | 'meta' | 'token_scopes' | 'user_grams' | 'user_grams_new'): string;
  bool(value: boolean): unknown;
  /**
   * ` INDEXED BY <index>` on SQLite, whose adapter chose the plan (its planner has no statistics of
   * a time range); nothing on PostgreSQL, whose planner has them.
   */
  indexedBy(index: string): string;
  /**
   * PostgreSQL: a token found from token_scopes is joined as a LATERAL subquery (a primary-key
   * lookup per row), since its planner, estimating the two-column join as one row, would otherwise
   * sort every token of the scope rather than read token_scopes in list order. SQLite: CROSS JOIN,
   * which keeps token_scopes as the outer loop.
   */
  lateral: boolean;
}

export interface Built {
  sql: string;
  params: unknown[];
  limit: number;
  cursor: Cursor | null;
}

export const DAY_MS = 86_400_000;
export const DEFAULT_EXPIRING_MS = 7 * DAY_MS;

/** `?` placeholders as `$1, $2, …` (PostgreSQL). No query here has a `?` inside a literal. */
export function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function keyset(columns: string[], cursor: Cursor | null, params: unknown[]): { where: string | null; order: string } {
  const backwards = cursor?.direction === 'previous';
  const order = columns.map((c) => `${c} ${backwards ? 'DESC' : 'ASC'}`).join(', ');
  if (!cursor) return { where: null, order };
  const op = (backwards ? '<' : '>') + (cursor.inclusive ? '=' : '');
  params.push(...cursor.key);
  return { where: `(${columns.join(', ')}) ${op} (${columns.map(() => '?').join(', ')})`, order };
}

const MAX_FILTER = 150;

function text(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > MAX_FILTER) throw new DirectoryQueryError(field, `Ensure this field has no more than ${MAX_FILTER} characters.`);
  return value;
}

/** LIKE with the pattern's own wildcards escaped. */
function likeEscaped(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export const USER_COLUMNS = ['username', 'stream_id'];
export const TOKEN_COLUMNS = ['username', 'created_at', 'token_id'];

/**
 * Tokens leave a user's state a week after they expire (src/domain/expiry.ts): the cut-off before
 * which an expired token is no longer "current" at `now`.
 */
export function forgottenBefore(now: string): string {
  return new Date(Date.parse(now) - EXPIRED_RETENTION_MS).toISOString();
}

/**
 * How the SQLite adapter drives a user search: from the posting list of one trigram in `user_grams`
 * (rows of users whose search key holds it, in list order), the rarest of the pattern's, so a
 * search reads at most that list, never every user. PostgreSQL needs no plan: its pg_trgm index
 * and planner do this. Without a gram (patterns of fewer than three characters), the list order.
 */
export interface UserPlan {
  gram?: string;
  /** Which of SQLite's two gram tables the posting list is read from (default user_grams). */
  gramTable?: 'user_grams' | 'user_grams_new';
}

/** The anchor the user_grams trigrams of a search key start with, so that prefixes have trigrams too. */
export const GRAM_ANCHOR = '\u0001';

/** Distinct trigrams (in code points) of a text. */
export function trigrams(text: string): string[] {
  const chars = [...text];
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) grams.add(chars.slice(i, i + 3).join(''));
  return [...grams];
}

/** The trigrams user_grams holds for a user's search key (anchored at its start: see GRAM_ANCHOR). */
export const keyGrams = (usernameKey: string): string[] => trigrams(GRAM_ANCHOR + usernameKey);

/**
 * The trigrams a user query's search and prefix require of a username (any one can drive the
 * search): the search's own, and the anchored prefix's. Empty when both are shorter than that.
 */
export function userQueryGrams(query: Pick<UserQuery, 'search' | 'prefix'>): string[] {
  const search = text('search', query.search);
  const prefix = text('prefix', query.prefix);
  return [...trigrams(search ? searchKey(search) : ''), ...trigrams(prefix ? GRAM_ANCHOR + searchKey(prefix) : '')];
}

export function usersQuery(d: Dialect, query: UserQuery, plan: UserPlan = {}): Built {
  const limit = pageSize(query.limit);
  const cursor = query.cursor === undefined ? null : decodeCursor('users', USER_COLUMNS.length, query.cursor);
  // The token count (first parameter) is the user's state's: tokens not revoked nor forgotten.
  const params: unknown[] = [forgottenBefore(query.now ?? new Date().toISOString())];
  const where: string[] = [];
  // With a gram, its posting list (in list order) drives the join, and orders the page.
  const driver = plan.gram === undefined ? 'u' : 'g';
  if (plan.gram !== undefined) (where.push('g.gram = ?', 'u.stream_id = g.stream_id'), params.push(plan.gram));
  where.push('u.erased = ?');
  params.push(d.bool(false));
  const search = text('search', query.search);
  if (search !== undefined && search !== '') {
    where.push("u.username_key LIKE ? ESCAPE '\\'");
    params.push(`%${likeEscaped(searchKey(search))}%`);
  }
  const prefix = text('prefix', query.prefix);
  if (prefix !== undefined && prefix !== '') {
    where.push("u.username_key LIKE ? ESCAPE '\\'");
    params.push(`${likeEscaped(searchKey(prefix))}%`);
  }
  if (query.active !== undefined) (where.push('u.active = ?'), params.push(d.bool(query.active)));
  if (query.staff !== undefined) (where.push('u.is_staff = ?'), params.push(d.bool(query.staff)));
  const { where: after, order } = keyset(USER_COLUMNS.map((c) => `${driver}.${c}`), cursor, params);
  if (after) where.push(after);
  params.push(limit + 1);
  const from = plan.gram === undefined ? `${d.table('users')} u` : `${d.table(plan.gramTable ?? 'user_grams')} g CROSS JOIN ${d.table('users')} u`;
  const sql =
    `SELECT u.stream_id, u.user_id, u.username, u.active, u.is_staff, u.is_superuser, u.has_password, u.created_at, ` +
    `(SELECT count(*) FROM ${d.table('tokens')} t WHERE t.stream_id = u.stream_id AND t.revoked_at IS NULL ` +
    `AND (t.expires_at IS NULL OR t.expires_at > ?)) AS tokens ` +
    `FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`;
  return { sql, params, limit, cursor };
}

export function tokenStatusFilter(value: string | undefined): TokenQuery['status'] {
  if (value === undefined) return undefined;
  if (!(TOKEN_STATUS_FILTERS as readonly string[]).includes(value)) {
    throw new DirectoryQueryError('status', `Select a valid choice. ${value} is not one of the available choices (${TOKEN_STATUS_FILTERS.join(', ')}).`);
  }
  return value as TokenQuery['status'];
}

/** The SQL condition of a status filter at `now` (parameters pushed onto `params`). */
function statusWhere(status: NonNullable<TokenQuery['status']>, now: string, withinMs: number, params: unknown[]): string | null {
  const notExpired = '(t.expires_at IS NULL OR t.expires_at > ?)';
  switch (status) {
    case 'any':
      return null;
    case 'current':
      params.push(forgottenBefore(now));
      return 't.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)';
    case 'revoked':
      return 't.revoked_at IS NOT NULL';
    case 'expired':
      params.push(now);
      return 't.revoked_at IS NULL AND t.expires_at IS NOT NULL AND t.expires_at <= ?';
    case 'live':
      params.push(now);
      return `t.revoked_at IS NULL AND ${notExpired}`;
    case 'grace':
      params.push(now, now);
      return `t.revoked_at IS NULL AND ${notExpired} AND t.grace_until IS NOT NULL AND t.grace_until > ?`;
    case 'expiring':
      params.push(now, new Date(Date.parse(now) + withinMs).toISOString());
      return 't.revoked_at IS NULL AND t.expires_at IS NOT NULL AND t.expires_at > ? AND t.expires_at <= ?';
  }
}

/**
 * The statuses that depend on the query's time, and the range index that finds them. Whether a
 * page of them is cheaper found from that index (then sorted) or by reading the list order depends
 * on how many there are at `now`: the SQLite adapter counts (up to a cap) and chooses; PostgreSQL's
 * planner chooses from its statistics.
 */
export function statusRange(
  status: TokenQuery['status'],
  now: string,
  withinMs: number,
): { index: 'tokens_expiry' | 'tokens_grace'; where: string; params: unknown[] } | null {
  switch (status) {
    case 'expired':
      return { index: 'tokens_expiry', where: 'revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?', params: [now] };
    case 'expiring':
      return {
        index: 'tokens_expiry',
        where: 'revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at > ? AND expires_at <= ?',
        params: [now, new Date(Date.parse(now) + withinMs).toISOString()],
      };
    case 'grace':
      return { index: 'tokens_grace', where: 'revoked_at IS NULL AND grace_until IS NOT NULL AND grace_until > ?', params: [now] };
    default:
      return null;
  }
}

/**
 * How the SQLite adapter has the token list read: `range` from a time-status range index (then
 * sorted: there are few such tokens at `now`), or `order` in the list order (there are many).
 * Absent: the planner chooses (PostgreSQL), or nothing depends on it.
 */
export interface TokenPlan {
  status?: 'range' | 'order';
  /** Read the key-prefix index's range, then sort (few keys start so). */
  prefix?: boolean;
}

/**
 * Keys starting with `prefix` are within [prefix, bound) in code-point order: `bound` is the prefix
 * with its last character's successor (null if there is none). A superset condition for an index
 * range; the exact prefix test stays.
 */
export function prefixBound(prefix: string): string | null {
  const chars = [...prefix];
  const last = chars.pop()!.codePointAt(0)!;
  if (last >= 0x10ffff) return null;
  // Skip the surrogate range: it is never a character of a string.
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  return chars.join('') + String.fromCodePoint(next);
}

export function tokensQuery(d: Dialect, query: TokenQuery & { now: string }, plan: TokenPlan = {}): Built {
  const limit = pageSize(query.limit);
  const cursor = query.cursor === undefined ? null : decodeCursor('tokens', TOKEN_COLUMNS.length, query.cursor);
  const withinMs = query.withinMs ?? DEFAULT_EXPIRING_MS;
  if (!Number.isSafeInteger(withinMs) || withinMs < 0) throw new DirectoryQueryError('within', 'Enter a valid duration.');
  const params: unknown[] = [];
  const where: string[] = [];
  const user = text('user', query.user);
  const name = text('name', query.name);
  const scope = text('scope', query.scope);
  if (scope !== undefined && (/\s/.test(scope) || scope === '')) throw new DirectoryQueryError('scope', 'A scope has no spaces.');
  const status = tokenStatusFilter(query.status) ?? 'current';
  const range = statusRange(status, query.now, withinMs);
  // A scope's side table (token_scopes: scope, name, username, created_at, token_id) drives the join
  // and orders the page, unless a time status's few rows drive it.
  const keyPrefix = text('keyPrefix', query.keyPrefix);
  const byPrefix = plan.prefix === true && keyPrefix !== undefined && keyPrefix !== '';
  const byScope = scope !== undefined && !(range && plan.status === 'range') && !byPrefix;
  let from: string;
  if (byScope) {
    const byKey = 't.stream_id = s.stream_id AND t.token_id = s.token_id';
    from = d.lateral
      ? `${d.table('token_scopes')} s CROSS JOIN LATERAL (SELECT * FROM ${d.table('tokens')} t WHERE ${byKey} OFFSET 0) t`
      : `${d.table('token_scopes')} s CROSS JOIN ${d.table('tokens')} t`;
    where.push('s.scope = ?');
    params.push(scope);
    if (!d.lateral) where.push(byKey);
    // Repeated on the side table: its indexes (scope, username, …) and (scope, name, …) serve them.
    if (user !== undefined) (where.push('s.username = ?'), params.push(user));
    if (name !== undefined) (where.push('s.name = ?'), params.push(name));
  } else {
    const index = byPrefix ? 'tokens_prefix' : range && plan.status ? (plan.status === 'range' ? range.index : 'tokens_order') : null;
    from = `${d.table('tokens')} t${index ? d.indexedBy(index) : ''}`;
  }
  where.push('t.erased = ?');
  params.push(d.bool(false));
  if (user !== undefined) (where.push('t.username = ?'), params.push(user));
  if (name !== undefined) (where.push('t.name = ?'), params.push(name));
  if (byPrefix) {
    const bound = prefixBound(keyPrefix);
    where.push(bound === null ? 't.key_prefix >= ?' : 't.key_prefix >= ? AND t.key_prefix < ?');
    params.push(keyPrefix, ...(bound === null ? [] : [bound]));
  }
  if (keyPrefix !== undefined && keyPrefix !== '') {
    where.push("t.key_prefix LIKE ? ESCAPE '\\'");
    params.push(`${likeEscaped(keyPrefix)}%`);
    // SQLite's LIKE ignores ASCII case and key prefixes are case-sensitive: the exact prefix too.
    where.push(`substr(t.key_prefix, 1, ${[...keyPrefix].length}) = ?`);
    params.push(keyPrefix);
  }
  if (scope !== undefined && !byScope) {
    where.push(
      `EXISTS (SELECT 1 FROM ${d.table('token_scopes')} s WHERE s.scope = ? AND s.username = t.username ` +
        'AND s.created_at = t.created_at AND s.token_id = t.token_id AND s.stream_id = t.stream_id)',
    );
    params.push(scope);
  }
  const condition = statusWhere(status, query.now, withinMs, params);
  if (condition) where.push(condition);
  const { where: after, order } = keyset(TOKEN_COLUMNS.map((c) => `${byScope ? 's' : 't'}.${c}`), cursor, params);
  if (after) where.push(after);
  params.push(limit + 1);
  const sql = `SELECT ${TOKEN_SELECT} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`;
  return { sql, params, limit, cursor };
}

export const TOKEN_SELECT =
  't.stream_id, t.token_id, t.username, t.name, t.kind, t.format, t.key_prefix, t.digest, t.previous_digest, t.scopes, ' +
  't.description, t.created_at, t.expires_at, t.last_rotated_at, t.grace_until, t.revoked_at, t.revoke_reason';

export interface UserRow {
  stream_id: string;
  user_id: string;
  username: string;
  active: unknown;
  is_staff: unknown;
  is_superuser: unknown;
  has_password: unknown;
  created_at: string;
  tokens: unknown;
}

export interface TokenRow {
  stream_id: string;
  token_id: string;
  username: string;
  name: string;
  kind: string;
  format: string;
  key_prefix: string;
  digest: string;
  previous_digest: string | null;
  scopes: string;
  description: string | null;
  created_at: string;
  expires_at: string | null;
  last_rotated_at: string | null;
  grace_until: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
}

export function userOfRow(row: UserRow): DirectoryUser {
  return {
    userId: row.user_id,
    username: row.username,
    active: Boolean(row.active),
    isStaff: Boolean(row.is_staff),
    isSuperuser: Boolean(row.is_superuser),
    hasPassword: Boolean(row.has_password),
    createdAt: row.created_at,
    tokens: Number(row.tokens),
  };
}

export function statusOf(row: Pick<TokenRow, 'revoked_at' | 'expires_at' | 'grace_until'>, now: string): TokenStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at <= now) return 'expired';
  if (row.grace_until !== null && row.grace_until > now) return 'grace';
  return 'live';
}

export function tokenOfRow(row: TokenRow, now: string): DirectoryToken {
  return {
    username: row.username,
    tokenId: row.token_id,
    name: row.name,
    kind: row.kind as DirectoryToken['kind'],
    format: row.format as DirectoryToken['format'],
    keyPrefix: row.key_prefix,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastRotatedAt: row.last_rotated_at,
    graceUntil: row.grace_until,
    scopes: JSON.parse(row.scopes) as string[],
    description: row.description,
    status: statusOf(row, now),
    revokedAt: row.revoked_at,
  };
}

export const userKey = (u: { username: string; stream_id: string }) => [u.username, u.stream_id];
export const tokenKey = (t: { username: string; created_at: string; token_id: string }) => [t.username, t.created_at, t.token_id];

/**
 * Counts at `now`, one statement per table, each count read from an index (the partial indexes
 * of the status filters, the staff and active indexes), not by reading every row: the dashboard
 * costs index entries, not table pages. Live tokens are the tokens not revoked less the expired.
 * (No `erased` condition: an erased user's rows are deleted, the column is never set.)
 */
export function countsSql(d: Dialect): { users: string; tokens: string } {
  const users = d.table('users');
  const tokens = d.table('tokens');
  const expired = `(SELECT count(*) FROM ${tokens} WHERE revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?)`;
  return {
    users: `SELECT (SELECT count(*) FROM ${users}) AS total, (SELECT count(*) FROM ${users} WHERE active = ?) AS active,
      (SELECT count(*) FROM ${users} WHERE is_staff = ?) AS staff`,
    tokens: `SELECT
      (SELECT count(*) FROM ${tokens} WHERE revoked_at IS NOT NULL) AS revoked,
      ${expired} AS expired,
      (SELECT count(*) FROM ${tokens} WHERE revoked_at IS NULL) - ${expired} AS live,
      (SELECT count(*) FROM ${tokens} WHERE revoked_at IS NULL AND grace_until IS NOT NULL AND grace_until > ? AND (expires_at IS NULL OR expires_at > ?)) AS grace,
      (SELECT count(*) FROM ${tokens} WHERE revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at > ? AND expires_at <= ?) AS expiring`,
  };
}

export function countsParams(d: Dialect, now: string, withinMs: number): { users: unknown[]; tokens: unknown[] } {
  const until = new Date(Date.parse(now) + withinMs).toISOString();
  return { users: [d.bool(true), d.bool(true)], tokens: [now, now, now, now, now, until] };
}

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
  table(name: 'users' | 'tokens' | 'digests' | 'meta'): string;
  bool(value: boolean): unknown;
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

export function usersQuery(d: Dialect, query: UserQuery): Built {
  const limit = pageSize(query.limit);
  const cursor = query.cursor === undefined ? null : decodeCursor('users', USER_COLUMNS.length, query.cursor);
  // The token count (first parameter) is the user's state's: tokens not revoked nor forgotten.
  const params: unknown[] = [forgottenBefore(query.now ?? new Date().toISOString())];
  const where = ['u.erased = ?'];
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
  const { where: after, order } = keyset(USER_COLUMNS.map((c) => `u.${c}`), cursor, params);
  if (after) where.push(after);
  params.push(limit + 1);
  const sql =
    `SELECT u.stream_id, u.user_id, u.username, u.active, u.is_staff, u.is_superuser, u.has_password, u.created_at, ` +
    `(SELECT count(*) FROM ${d.table('tokens')} t WHERE t.stream_id = u.stream_id AND t.revoked_at IS NULL ` +
    `AND (t.expires_at IS NULL OR t.expires_at > ?)) AS tokens ` +
    `FROM ${d.table('users')} u WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`;
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

export function tokensQuery(d: Dialect, query: TokenQuery & { now: string }): Built {
  const limit = pageSize(query.limit);
  const cursor = query.cursor === undefined ? null : decodeCursor('tokens', TOKEN_COLUMNS.length, query.cursor);
  const withinMs = query.withinMs ?? DEFAULT_EXPIRING_MS;
  if (!Number.isSafeInteger(withinMs) || withinMs < 0) throw new DirectoryQueryError('within', 'Enter a valid duration.');
  const params: unknown[] = [];
  const where = ['t.erased = ?'];
  params.push(d.bool(false));
  const user = text('user', query.user);
  if (user !== undefined) (where.push('t.username = ?'), params.push(user));
  const name = text('name', query.name);
  if (name !== undefined) (where.push('t.name = ?'), params.push(name));
  const keyPrefix = text('keyPrefix', query.keyPrefix);
  if (keyPrefix !== undefined && keyPrefix !== '') {
    where.push("t.key_prefix LIKE ? ESCAPE '\\'");
    params.push(`${likeEscaped(keyPrefix)}%`);
    // SQLite's LIKE ignores ASCII case and key prefixes are case-sensitive: the exact prefix too.
    where.push(`substr(t.key_prefix, 1, ${[...keyPrefix].length}) = ?`);
    params.push(keyPrefix);
  }
  const scope = text('scope', query.scope);
  if (scope !== undefined) {
    if (/\s/.test(scope) || scope === '') throw new DirectoryQueryError('scope', 'A scope has no spaces.');
    where.push("t.scope_key LIKE ? ESCAPE '\\'");
    params.push(`%${likeEscaped(scopeKey([scope]))}%`);
  }
  const status = statusWhere(tokenStatusFilter(query.status) ?? 'current', query.now, withinMs, params);
  if (status) where.push(status);
  const { where: after, order } = keyset(TOKEN_COLUMNS.map((c) => `t.${c}`), cursor, params);
  if (after) where.push(after);
  params.push(limit + 1);
  const sql = `SELECT ${TOKEN_SELECT} FROM ${d.table('tokens')} t WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`;
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

/** Counts at `now`, one statement per table. */
export function countsSql(d: Dialect): { users: string; tokens: string } {
  return {
    users: `SELECT count(*) AS total, coalesce(sum(CASE WHEN active = ? THEN 1 ELSE 0 END), 0) AS active,
      coalesce(sum(CASE WHEN is_staff = ? THEN 1 ELSE 0 END), 0) AS staff FROM ${d.table('users')} WHERE erased = ?`,
    tokens: `SELECT
      coalesce(sum(CASE WHEN revoked_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS revoked,
      coalesce(sum(CASE WHEN revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ? THEN 1 ELSE 0 END), 0) AS expired,
      coalesce(sum(CASE WHEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) THEN 1 ELSE 0 END), 0) AS live,
      coalesce(sum(CASE WHEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND grace_until IS NOT NULL AND grace_until > ? THEN 1 ELSE 0 END), 0) AS grace,
      coalesce(sum(CASE WHEN revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at > ? AND expires_at <= ? THEN 1 ELSE 0 END), 0) AS expiring
      FROM ${d.table('tokens')} WHERE erased = ?`,
  };
}

export function countsParams(d: Dialect, now: string, withinMs: number): { users: unknown[]; tokens: unknown[] } {
  const until = new Date(Date.parse(now) + withinMs).toISOString();
  return { users: [d.bool(true), d.bool(true), d.bool(false)], tokens: [now, now, now, now, now, until, d.bool(false)] };
}

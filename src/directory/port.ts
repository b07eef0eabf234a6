import type { DirectoryUserRow } from '../../projections/directory.js';
import type { RecordedEvent } from '../eventstore/port.js';

/**
 * The directory: the query read model of users, tokens and the digest history, kept in SQL by a
 * projector beside the lookup projection. One port for every reader (CLI, staff API, admin
 * console); the write side (`apply`) has the lookup projection's guarantees: rows and checkpoint
 * change in one transaction, an event at or before the checkpoint changes nothing.
 */

/** What the directory shows of a user (its row without the stream id): never a password hash. */
export type DirectoryUser = Omit<DirectoryUserRow, 'streamId'> & {
  /** Tokens not revoked (expired ones included, as the user's state holds them). */
  tokens: number;
};

/**
 * A token's status at the query's `now`, in this order of precedence:
 * `revoked` (revoked at any time), `expired` (expiry at or before now), `grace` (a rotation's
 * superseded secret still opens the door), `live`. `expiring` is a filter, not a status: live
 * tokens whose expiry falls within `within` of now.
 */
export type TokenStatus = 'live' | 'grace' | 'expired' | 'revoked';
export type TokenStatusFilter = TokenStatus | 'expiring' | 'current' | 'any';
export const TOKEN_STATUS_FILTERS: readonly TokenStatusFilter[] = ['current', 'live', 'expiring', 'grace', 'expired', 'revoked', 'any'];

/** What the directory shows of a token: the first 8 characters of its key, never the key or a digest. */
export interface DirectoryToken {
  username: string;
  tokenId: string;
  name: string;
  kind: 'named' | 'login';
  format: 'tl' | 'drf';
  keyPrefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastRotatedAt: string | null;
  /** Until when the secret a rotation superseded stays valid (null: none, or it died with the rotation). */
  graceUntil: string | null;
  scopes: string[];
  description: string | null;
  status: TokenStatus;
  revokedAt: string | null;
}

/** One page of a keyset-paginated list; `next` / `previous` are opaque cursors, null at either end. */
export interface Page<T> {
  results: T[];
  next: string | null;
  previous: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

interface Paging {
  /** Rows per page: 1 to 500, default 50. */
  limit?: number;
  /** A cursor from a previous page's `next` or `previous`. */
  cursor?: string;
}

/** `user list`, `GET /api/users/`: sorted by username (code-point order). */
export interface UserQuery extends Paging {
  /** Usernames containing this, case-insensitively. */
  search?: string;
  /** Usernames starting with this, case-insensitively. */
  prefix?: string;
  active?: boolean;
  staff?: boolean;
  /** The time token counts are taken at (ISO). Default: the clock's now. */
  now?: string;
}

/** `token list`, `GET /api/tokens/`: sorted by username, then creation (then token id). */
export interface TokenQuery extends Paging {
  /** Exact username. */
  user?: string;
  /** Exact token name. */
  name?: string;
  /** Keys starting with this (the 8 characters that lists show, or fewer). */
  keyPrefix?: string;
  /**
   * Default `current`: what the user's state holds, every token not revoked (live, in grace, or
   * expired less than the retention week ago). `any`: revoked and long-expired ones too.
   */
  status?: TokenStatusFilter;
  /** For `expiring`: milliseconds ahead of now. Default 7 days. */
  withinMs?: number;
  /** Tokens that carry this scope. */
  scope?: string;
  /** The time statuses are computed at (ISO). Default: the clock's now. */
  now?: string;
}

export interface DirectoryCounts {
  users: { total: number; active: number; staff: number };
  /** `expiring`: live tokens whose expiry is within `withinMs` (default 7 days). */
  tokens: { live: number; grace: number; expired: number; revoked: number; expiring: number };
}

/** Who held a digest: the user stream to fold for the truth about it at any time. */
export interface DigestHolder {
  streamId: string;
  tokenId: string;
}

/** A query parameter the directory cannot answer (bad cursor, limit out of range, unknown status). */
export class DirectoryQueryError extends Error {
  readonly code = 'invalid_query';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DirectoryQueryError';
  }
}

/** The directory's database cannot be reached or written. */
export class DirectoryUnavailableError extends Error {
  readonly code = 'unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'DirectoryUnavailableError';
  }
}

/** A batch does not continue the directory (it was cleared meanwhile): read again from `checkpoint`. */
export class DirectoryGapError extends Error {
  readonly code = 'gap';
  constructor(
    readonly checkpoint: bigint,
    readonly after: bigint,
  ) {
    super(`the directory is at ${checkpoint}, behind the batch read after ${after}`);
    this.name = 'DirectoryGapError';
  }
}

/** The read side: what every list, search, count and time-travel lookup asks. */
export interface DirectoryQueries {
  listUsers(query: UserQuery): Promise<Page<DirectoryUser>>;
  listTokens(query: TokenQuery & { now: string }): Promise<Page<DirectoryToken>>;
  counts(now: string, withinMs?: number): Promise<DirectoryCounts>;
  /** The user stream that holds (or held) a digest; null if none ever did. */
  holderOf(digest: string): Promise<DigestHolder | null>;
  /** The stream of a user by username (null: no such user, or erased). */
  streamOf(username: string): Promise<string | null>;
  /** Streams that have (or had) a token with this name or id, at most `limit` of them, in stream order. */
  streamsWithToken(nameOrId: string, limit: number): Promise<string[]>;
}

/** The directory as a whole: its queries and its write side. */
export interface DirectoryStore extends DirectoryQueries {
  readonly backend: 'sqlite' | 'postgres';
  /** Where it lives, for people (never a password). */
  readonly where: string;
  /** Position of the last event applied; 0n when empty. */
  checkpoint(): Promise<bigint>;
  /**
   * Applies events in log order, rows and checkpoint in one transaction. Events at or before the
   * checkpoint change nothing. `after` is where the batch was read from (default: the checkpoint);
   * a directory not that far applies nothing and throws DirectoryGapError.
   */
  apply(events: RecordedEvent[], after?: bigint): Promise<void>;
  /**
   * Replaces everything with what `batches` (the whole log, in order) folds to, in one
   * transaction: readers see the old directory until the new one is complete.
   */
  rebuild(batches: AsyncIterable<RecordedEvent[]>, onBatch?: (events: number) => void): Promise<{ events: number; checkpoint: bigint }>;
  /** Every row, for consistency checks and tests: users and tokens in list order, digests sorted. */
  dump(): Promise<DirectoryDump>;
  close(): Promise<void>;
}

export interface DirectoryDump {
  checkpoint: bigint;
  users: (DirectoryUser & { streamId: string })[];
  tokens: (Omit<DirectoryToken, 'status'> & { streamId: string; digest: string; previousDigest: string | null; revokeReason: string | null })[];
  digests: (DigestHolder & { digest: string })[];
  /**
   * The side tables that serve the filters, sorted: a token's scopes one per row, and (SQLite) the
   * trigrams of each username's search key. Derived from the rows above: equal whenever they are.
   */
  tokenScopes: { scope: string; name: string; username: string; createdAt: string; tokenId: string; streamId: string }[];
  /** Per user, the trigrams as one text (space-separated), so no single trigram reads as a name. */
  userGrams: { username: string; streamId: string; grams: string }[];
}

import type { LedgerEvent, TokenFormat, TokenKind, UserState } from '../domain/index.js';

/*
 * What the application services answer, in a module of their own: the services and the errors
 * that carry their results (behind.ts) both need these shapes, and neither may import the other.
 */

/** What a write did: the events appended (none when the command changed nothing) and the user's state after them. */
export interface Executed {
  state: UserState;
  events: LedgerEvent[];
  position: bigint | null;
}

/** What may be shown of a token: the first 8 characters of its key, never the key or its digest. */
export interface TokenView {
  username: string;
  tokenId: string;
  name: string;
  kind: TokenKind;
  format: TokenFormat;
  keyPrefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastRotatedAt: string | null;
  graceUntil: string | null;
  scopes: string[];
  description: string | null;
}

/** The one moment a key exists in clear: returned to the caller, stored nowhere. */
export interface IssuedToken {
  key: string;
  token: TokenView;
}

/** What may be shown of a user (never the password hash): the directory's row, one shape for every reader. */
export type { DirectoryUser as UserView } from '../directory/port.js';

/** A token as lists show it: its view, its status at the list's time, and when it was revoked. */
export type { DirectoryToken as ListedToken } from '../directory/port.js';

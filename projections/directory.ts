import { ledgerEventOf, usernameOfStream } from '../src/domain/index.js';
import type { RecordedEvent } from '../src/eventstore/port.js';

/**
 * The directory's projection definition: what one event of a user stream does to the rows of the
 * directory (users, tokens, digest history), as row operations. Pure and stateless: each operation
 * names the rows it touches by stream id (never by username, which erasure makes unreadable), so an
 * adapter applies it with one or two statements and no read of the log. Rows are keyed by stream
 * id; a token row by (stream id, token id) and found by name while live, as the user's fold finds it.
 */
export type DirectoryOp =
  | {
      op: 'register';
      streamId: string;
      userId: string;
      username: string;
      isStaff: boolean;
      isSuperuser: boolean;
      hasPassword: boolean;
      at: string;
    }
  | { op: 'patchUser'; streamId: string; set: { active?: boolean; isStaff?: boolean; isSuperuser?: boolean; hasPassword?: boolean } }
  | {
      op: 'issue';
      streamId: string;
      tokenId: string;
      name: string;
      kind: 'named' | 'login';
      format: 'tl' | 'drf';
      digest: string;
      keyPrefix: string;
      scopes: string[];
      description: string | null;
      expiresAt: string | null;
      at: string;
    }
  | {
      op: 'rotate';
      streamId: string;
      name: string;
      digest: string;
      keyPrefix: string;
      previousDigest: string;
      graceUntil: string | null;
      at: string;
    }
  | { op: 'revoke'; streamId: string; name: string; reason: string | null; at: string }
  /** The user is erased: their user and token rows are deleted (the digest history keeps only digest → stream id). */
  | { op: 'erase'; streamId: string };

/** Lower-cased for case-insensitive search; the same function on both sides (rows and queries). */
export const searchKey = (text: string): string => text.toLowerCase();

/** A token's scopes as one searchable string: " a b " (scopes never contain spaces). */
export const scopeKey = (scopes: readonly string[]): string => ` ${scopes.join(' ')} `;

/** What one recorded event does to the directory (nothing for other streams or unknown types). */
export function directoryOps(event: RecordedEvent): DirectoryOp[] {
  if (usernameOfStream(event.streamId) === null) return [];
  // Erasure's event (issue 17): the user's rows leave the directory, username and all.
  if (event.type === 'UserDeleted') return [{ op: 'erase', streamId: event.streamId }];
  const e = ledgerEventOf(event);
  if (e === null) return [];
  const streamId = event.streamId;
  switch (e.type) {
    case 'UserRegistered': {
      const { userId, username, isStaff, isSuperuser, passwordHash, at } = e.data;
      return [{ op: 'register', streamId, userId, username, isStaff, isSuperuser, hasPassword: passwordHash !== null, at }];
    }
    case 'UserPasswordSet':
      return [{ op: 'patchUser', streamId, set: { hasPassword: e.data.passwordHash !== null } }];
    case 'UserPasswordRehashed':
      return [];
    case 'UserDeactivated':
      return [{ op: 'patchUser', streamId, set: { active: false } }];
    case 'UserActivated':
      return [{ op: 'patchUser', streamId, set: { active: true } }];
    case 'UserFlagsChanged':
      return [{ op: 'patchUser', streamId, set: { isStaff: e.data.isStaff, isSuperuser: e.data.isSuperuser } }];
    case 'TokenIssued': {
      const { tokenId, name, kind, format, digest, keyPrefix, scopes, description, expiresAt, at } = e.data;
      return [{ op: 'issue', streamId, tokenId, name, kind, format, digest, keyPrefix, scopes, description, expiresAt, at }];
    }
    case 'TokenRotated': {
      const { name, digest, keyPrefix, previousDigest, graceUntil, at } = e.data;
      return [{ op: 'rotate', streamId, name, digest, keyPrefix, previousDigest, graceUntil, at }];
    }
    case 'TokenRevoked':
      return [{ op: 'revoke', streamId, name: e.data.name, reason: e.data.reason, at: e.data.at }];
    case 'UserDeleted':
      return [{ op: 'erase', streamId }];
  }
}

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

/** A user's row as the directory keeps it (the adapters add the search key). */
export interface DirectoryUserRow {
  streamId: string;
  userId: string;
  username: string;
  active: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  hasPassword: boolean;
  createdAt: string;
}

/** A token's row as the directory keeps it (the adapters add the scope key). */
export interface DirectoryTokenRow {
  streamId: string;
  tokenId: string;
  username: string;
  name: string;
  kind: 'named' | 'login';
  format: 'tl' | 'drf';
  keyPrefix: string;
  digest: string;
  previousDigest: string | null;
  scopes: string[];
  description: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastRotatedAt: string | null;
  graceUntil: string | null;
  revokedAt: string | null;
  revokeReason: string | null;
}

/** A digest history row: who held a digest first. */
export interface DirectoryDigestRow {
  digest: string;
  streamId: string;
  tokenId: string;
}

/**
 * One stream's rows while a batch of operations is folded in memory, so that an adapter writes each
 * changed row once per batch instead of running a statement per operation. Starts from what is
 * stored (the user row, the tokens not revoked: the only rows an operation finds), applies the
 * operations exactly as the adapters' statements do, and says what to write: with `wiped`, delete
 * every stored row of the stream first; then `user` if `userChanged`, then the `changed` tokens
 * (upserts by token id). Digests go to the batch's list in log order (an adapter inserts them
 * keeping the first holder of a digest).
 */
export class StreamRows {
  /** The stream was erased in this batch: its stored rows, revoked tokens included, are deleted before writing. */
  wiped = false;
  userChanged = false;
  /** Tokens not revoked, by name (an issue revokes the live token of its name: at most one). */
  private readonly live = new Map<string, DirectoryTokenRow>();
  /** Token rows to write, by token id. */
  readonly changed = new Map<string, DirectoryTokenRow>();

  constructor(
    readonly streamId: string,
    public user: DirectoryUserRow | null,
    live: readonly DirectoryTokenRow[],
  ) {
    for (const token of live) this.live.set(token.name, token);
  }

  private revoke(token: DirectoryTokenRow, at: string, reason: string | null): void {
    this.live.delete(token.name);
    this.changed.set(token.tokenId, { ...token, revokedAt: at, revokeReason: reason });
  }

  apply(op: DirectoryOp, digests: DirectoryDigestRow[]): void {
    switch (op.op) {
      case 'register':
        // A live token does not survive its user's (re-)registration; its reason stays what it was.
        for (const token of [...this.live.values()]) this.revoke(token, op.at, token.revokeReason);
        this.user = {
          streamId: this.streamId,
          userId: op.userId,
          username: op.username,
          active: true,
          isStaff: op.isStaff,
          isSuperuser: op.isSuperuser,
          hasPassword: op.hasPassword,
          createdAt: op.at,
        };
        this.userChanged = true;
        return;
      case 'patchUser':
        if (this.user === null) return;
        this.user = { ...this.user, ...op.set };
        this.userChanged = true;
        return;
      case 'issue': {
        // A live token of the same name is replaced, as the user's fold replaces it.
        const same = this.live.get(op.name);
        if (same) this.revoke(same, op.at, null);
        if (this.user === null) return;
        // The row of the same token id, if any, is replaced (it leaves the live set under its name).
        for (const [name, token] of this.live) if (token.tokenId === op.tokenId) this.live.delete(name);
        const token: DirectoryTokenRow = {
          streamId: this.streamId,
          tokenId: op.tokenId,
          username: this.user.username,
          name: op.name,
          kind: op.kind,
          format: op.format,
          keyPrefix: op.keyPrefix,
          digest: op.digest,
          previousDigest: null,
          scopes: op.scopes,
          description: op.description,
          createdAt: op.at,
          expiresAt: op.expiresAt,
          lastRotatedAt: null,
          graceUntil: null,
          revokedAt: null,
          revokeReason: null,
        };
        this.live.set(op.name, token);
        this.changed.set(op.tokenId, token);
        digests.push({ digest: op.digest, streamId: this.streamId, tokenId: op.tokenId });
        return;
      }
      case 'rotate': {
        const live = this.live.get(op.name);
        if (!live) return;
        const token = { ...live, digest: op.digest, keyPrefix: op.keyPrefix, previousDigest: op.previousDigest, graceUntil: op.graceUntil, lastRotatedAt: op.at };
        this.live.set(op.name, token);
        this.changed.set(token.tokenId, token);
        digests.push({ digest: op.digest, streamId: this.streamId, tokenId: token.tokenId });
        return;
      }
      case 'revoke': {
        const live = this.live.get(op.name);
        if (live) this.revoke(live, op.at, op.reason);
        return;
      }
      case 'erase':
        this.wiped = true;
        this.user = null;
        this.userChanged = false;
        this.live.clear();
        this.changed.clear();
        return;
    }
  }
}

/** What a batch of events does to the directory: each touched stream's rows, and the digests in log order. */
export interface FoldedBatch {
  streams: Map<string, StreamRows>;
  digests: DirectoryDigestRow[];
}

/** A stream's stored rows, as the in-memory fold starts from: its user row and its tokens not revoked. */
export interface StoredRows {
  user: DirectoryUserRow | null;
  live: DirectoryTokenRow[];
}

/** A batch's row operations in log order, and the streams they touch (whose stored rows the fold needs). */
export function batchOps(events: readonly RecordedEvent[]): { ops: DirectoryOp[]; streamIds: string[] } {
  const ops: DirectoryOp[] = [];
  const ids = new Set<string>();
  for (const event of events) {
    for (const op of directoryOps(event)) {
      ops.push(op);
      ids.add(op.streamId);
    }
  }
  return { ops, streamIds: [...ids] };
}

/**
 * Folds a batch's operations (batchOps) over the stored rows of the streams they touch (missing:
 * none stored) into the rows to write: each touched stream's rows, and the digests in log order.
 */
export function foldDirectoryOps(ops: readonly DirectoryOp[], stored: ReadonlyMap<string, StoredRows>): FoldedBatch {
  const streams = new Map<string, StreamRows>();
  const digests: DirectoryDigestRow[] = [];
  for (const op of ops) {
    let rows = streams.get(op.streamId);
    if (!rows) {
      const before = stored.get(op.streamId);
      streams.set(op.streamId, (rows = new StreamRows(op.streamId, before?.user ?? null, before?.live ?? [])));
    }
    rows.apply(op, digests);
  }
  return { streams, digests };
}

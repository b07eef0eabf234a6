import { ledgerEventOf, usernameOfStream, type TokenRecord } from '../src/domain/index.js';
import type { RecordedEvent } from '../src/eventstore/port.js';

/** A live token as its user's document remembers it: enough to write every record it owns. */
export interface ProjectedToken {
  tokenId: string;
  name: string;
  scopes: string[];
  /** Epoch ms, or null for no expiry. */
  expiresAt: number | null;
  digest: string;
  /** The secret a rotation superseded, still accepted until `graceUntil` (epoch ms). */
  previous: { digest: string; graceUntil: number } | null;
}

/**
 * The projection's state of one user. It exists so that a user-wide event (deactivation, flags)
 * can rewrite every record of the user without reading the log: records are derived from it.
 */
export interface UserDoc {
  /** Position of the last event of this user applied; replaying anything at or before it is a no-op. */
  position: number;
  userId: string;
  username: string;
  active: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  tokens: Record<string, ProjectedToken>;
}

/** A lookup record plus the log position it reflects. */
export interface StoredRecord extends TokenRecord {
  position: number;
}

/** Record writes keyed by digest: a record to store, or null to delete. Later writes win. */
export type RecordChanges = Map<string, StoredRecord | null>;

/**
 * How long an expired token keeps answering "Token has expired." before its record is dropped
 * (as Knox deletes expired tokens): without it, every login token ever issued would stay in
 * Redis for good.
 */
export const EXPIRED_RETENTION_MS = 7 * 86_400_000;

/**
 * When a record may leave storage (epoch ms; null: never). A superseded secret goes when its
 * grace ends, an expired token a week after its expiry: either way it can no longer let anyone
 * in, and the answer only changes from its specific 401 message to "Invalid token.".
 */
export function storageExpiry(record: TokenRecord): number | null {
  if (record.graceUntil !== null) return record.graceUntil;
  return record.expiresAt === null ? null : record.expiresAt + EXPIRED_RETENTION_MS;
}

/** The log position as a number: exact up to 2^53 events, far beyond any real log. */
export function positionOf(event: RecordedEvent): number {
  return Number(event.position);
}

function recordOf(doc: UserDoc, token: ProjectedToken, graceUntil: number | null, position: number): StoredRecord {
  return {
    userId: doc.userId,
    username: doc.username,
    active: doc.active,
    isStaff: doc.isStaff,
    isSuperuser: doc.isSuperuser,
    tokenId: token.tokenId,
    name: token.name,
    scopes: token.scopes,
    expiresAt: token.expiresAt,
    graceUntil,
    position,
  };
}

/** Writes the records a token owns: its current secret and, in grace, the superseded one. */
function putToken(changes: RecordChanges, doc: UserDoc, token: ProjectedToken, position: number): void {
  changes.set(token.digest, recordOf(doc, token, null, position));
  if (token.previous) changes.set(token.previous.digest, recordOf(doc, token, token.previous.graceUntil, position));
}

function dropToken(changes: RecordChanges, token: ProjectedToken | undefined): void {
  if (!token) return;
  changes.set(token.digest, null);
  if (token.previous) changes.set(token.previous.digest, null);
}

const isoToMs = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/**
 * Applies one event of a user stream to that user's document, adding the record writes it
 * implies to `changes`. Pure, and idempotent: an event at or before `doc.position` changes nothing.
 * Returns the document after the event (null while the user does not exist).
 */
export function projectEvent(doc: UserDoc | null, event: RecordedEvent, changes: RecordChanges): UserDoc | null {
  const position = positionOf(event);
  if (doc !== null && position <= doc.position) return doc;
  const e = ledgerEventOf(event);
  if (e === null || usernameOfStream(event.streamId) === null) return doc && { ...doc, position };
  if (e.type === 'UserRegistered') {
    const { userId, username, isStaff, isSuperuser } = e.data;
    for (const token of Object.values(doc?.tokens ?? {})) dropToken(changes, token);
    return { position, userId, username, active: true, isStaff, isSuperuser, tokens: {} };
  }
  if (doc === null) return null;
  switch (e.type) {
    case 'UserPasswordSet':
    case 'UserPasswordRehashed':
      return { ...doc, position };
    case 'UserDeactivated':
    case 'UserActivated':
    case 'UserFlagsChanged': {
      const next: UserDoc = { ...doc, position };
      if (e.type === 'UserFlagsChanged') Object.assign(next, { isStaff: e.data.isStaff, isSuperuser: e.data.isSuperuser });
      else next.active = e.type === 'UserActivated';
      // Every record carries the user's flags, so a user-wide change rewrites all of them.
      for (const token of Object.values(next.tokens)) putToken(changes, next, token, position);
      return next;
    }
    case 'TokenIssued': {
      const { tokenId, name, digest, scopes, expiresAt } = e.data;
      dropToken(changes, doc.tokens[name]);
      const token: ProjectedToken = { tokenId, name, scopes, expiresAt: isoToMs(expiresAt), digest, previous: null };
      const next: UserDoc = { ...doc, position, tokens: { ...doc.tokens, [name]: token } };
      putToken(changes, next, token, position);
      return next;
    }
    case 'TokenRotated': {
      const current = doc.tokens[e.data.name];
      if (!current) return { ...doc, position };
      const { digest, previousDigest, graceUntil, droppedDigests } = e.data;
      for (const dropped of [...droppedDigests, current.previous?.digest, current.digest]) {
        if (dropped !== undefined) changes.set(dropped, null);
      }
      const previous = graceUntil === null ? null : { digest: previousDigest, graceUntil: Date.parse(graceUntil) };
      const token: ProjectedToken = { ...current, digest, previous };
      const next: UserDoc = { ...doc, position, tokens: { ...doc.tokens, [token.name]: token } };
      putToken(changes, next, token, position);
      return next;
    }
    case 'TokenRevoked': {
      for (const digest of e.data.digests) changes.set(digest, null);
      dropToken(changes, doc.tokens[e.data.name]);
      const { [e.data.name]: _revoked, ...tokens } = doc.tokens;
      return { ...doc, position, tokens };
    }
  }
}

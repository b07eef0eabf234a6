import { DueQueue, EXPIRED_RETENTION_MS, leavesStateAt, ledgerEventOf, streamKeyOf, type TokenRecord } from '../src/domain/index.js';
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
 * (as Knox deletes expired tokens): the domain's rule, which the user's state follows too.
 */
export { EXPIRED_RETENTION_MS };

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

/** The name a deleted user's document keeps (the vault's ERASED marker: projections may not import the vault). */
export const ERASED_NAME = '[erased]';

/**
 * One user's document being folded: copied once when first changed (never per event), then
 * changed in place, with a queue of when each token leaves it. A token leaves the document, and
 * its records are deleted, at the first event at or after its expiry plus EXPIRED_RETENTION_MS:
 * the rule the user's state follows, so the document stays as small as the user's live tokens.
 */
export class DocFold {
  private owned = false;
  private due: DueQueue<{ name: string; tokenId: string }> | null = null;

  constructor(private doc: UserDoc | null) {}

  /** The document after the events applied so far (null while the user does not exist). */
  get current(): UserDoc | null {
    return this.doc;
  }

  /**
   * Applies one event of a user stream, adding the record writes it implies to `changes`.
   * Idempotent: an event at or before the document's position changes nothing (returns false).
   */
  apply(event: RecordedEvent, changes: RecordChanges): boolean {
    const position = positionOf(event);
    if (this.doc !== null && position <= this.doc.position) return false;
    const e = ledgerEventOf(event);
    if (e === null || streamKeyOf(event.streamId) === null) {
      if (this.doc === null) return false;
      this.own().position = position;
      return true;
    }
    if (e.type === 'UserRegistered') {
      const { userId, username, isStaff, isSuperuser } = e.data;
      for (const token of Object.values(this.doc?.tokens ?? {})) dropToken(changes, token);
      this.doc = { position, userId, username, active: true, isStaff, isSuperuser, tokens: {} };
      this.owned = true;
      this.due = new DueQueue();
      return true;
    }
    if (this.doc === null) return false;
    const doc = this.own();
    doc.position = position;
    this.expire(Date.parse(e.data.at), changes);
    const tokens = doc.tokens;
    switch (e.type) {
      case 'UserPasswordSet':
      case 'UserPasswordRehashed':
        return true;
      case 'UserDeactivated':
      case 'UserActivated':
      case 'UserFlagsChanged': {
        if (e.type === 'UserFlagsChanged') Object.assign(doc, { isStaff: e.data.isStaff, isSuperuser: e.data.isSuperuser });
        else doc.active = e.type === 'UserActivated';
        // Every record carries the user's flags, so a user-wide change rewrites all of them.
        for (const token of Object.values(tokens)) putToken(changes, doc, token, position);
        return true;
      }
      case 'UserDeleted': {
        // Every key of the user dies at once; the document stays as a tombstone without a name, so
        // a rebuild (which reads the erased username) ends where the incremental fold ended.
        for (const token of Object.values(tokens)) dropToken(changes, token);
        this.doc = { position, userId: doc.userId, username: ERASED_NAME, active: false, isStaff: false, isSuperuser: false, tokens: {} };
        this.due = new DueQueue();
        return true;
      }
      case 'TokenIssued': {
        const { tokenId, name, digest, scopes, expiresAt } = e.data;
        dropToken(changes, tokens[name]);
        const token: ProjectedToken = { tokenId, name, scopes, expiresAt: isoToMs(expiresAt), digest, previous: null };
        tokens[name] = token;
        this.schedule(token);
        putToken(changes, doc, token, position);
        return true;
      }
      case 'TokenRotated': {
        const current = tokens[e.data.name];
        if (!current) return true;
        const { digest, previousDigest, graceUntil, droppedDigests } = e.data;
        for (const dropped of [...droppedDigests, current.previous?.digest, current.digest]) {
          if (dropped !== undefined) changes.set(dropped, null);
        }
        const previous = graceUntil === null ? null : { digest: previousDigest, graceUntil: Date.parse(graceUntil) };
        // Token objects may be shared with the document the fold started from: replace, never mutate.
        const token: ProjectedToken = { ...current, digest, previous };
        tokens[token.name] = token;
        putToken(changes, doc, token, position);
        return true;
      }
      case 'TokenRevoked': {
        for (const digest of e.data.digests) changes.set(digest, null);
        dropToken(changes, tokens[e.data.name]);
        delete tokens[e.data.name];
        return true;
      }
    }
  }

  private own(): UserDoc {
    const doc = this.doc!;
    if (!this.owned) {
      this.doc = { ...doc, tokens: { ...doc.tokens } };
      this.owned = true;
    }
    return this.doc!;
  }

  private schedule(token: ProjectedToken): void {
    const at = leavesStateAt(token.expiresAt);
    if (at !== null) this.due!.push(at, { name: token.name, tokenId: token.tokenId });
  }

  /** Drops the tokens (and their records) whose expiry plus retention has passed at `at`. */
  private expire(at: number, changes: RecordChanges): void {
    const tokens = this.doc!.tokens;
    if (this.due === null) {
      this.due = new DueQueue();
      for (const token of Object.values(tokens)) this.schedule(token);
    }
    for (const gone of this.due.popDue(at)) {
      const token = tokens[gone.name];
      if (token?.tokenId !== gone.tokenId) continue;
      dropToken(changes, token);
      delete tokens[gone.name];
    }
  }
}

/**
 * Applies one event of a user stream to that user's document, adding the record writes it
 * implies to `changes`. Pure (the document passed in is not changed), and idempotent: an event
 * at or before `doc.position` returns `doc` itself. Returns the document after the event (null
 * while the user does not exist). A fold of many events uses DocFold, which copies once.
 */
export function projectEvent(doc: UserDoc | null, event: RecordedEvent, changes: RecordChanges): UserDoc | null {
  const fold = new DocFold(doc);
  return fold.apply(event, changes) ? fold.current : doc;
}

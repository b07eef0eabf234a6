import type { TokenFormat } from './token-format.js';

/** Through what a change was made. */
export type Channel = 'cli' | 'http' | 'admin' | 'import';

/** Who, through what, from where, when, and which request: attached to every event. */
export interface EventContext {
  actor: string;
  channel: Channel;
  source: string;
  at: string;
  correlationId: string;
}

/** What the log stores beside the data: the context plus the hash chain of the stream. */
export interface EventMetadata extends EventContext {
  eventId: string;
  prevHash: string;
  hash: string;
}

export type TokenKind = 'named' | 'login';

export type UserEvent =
  | {
      type: 'UserRegistered';
      data: { userId: string; username: string; isStaff: boolean; isSuperuser: boolean; passwordHash: string | null; at: string };
    }
  | { type: 'UserPasswordSet'; data: { passwordHash: string | null; at: string } }
  /**
   * The same password, stored under today's scheme after a good login against an older one
   * (Django's upgrade on login). Not a password change: tokens stay valid.
   */
  | { type: 'UserPasswordRehashed'; data: { passwordHash: string; at: string } }
  | { type: 'UserDeactivated'; data: { at: string } }
  | { type: 'UserActivated'; data: { at: string } }
  | { type: 'UserFlagsChanged'; data: { isStaff: boolean; isSuperuser: boolean; at: string } }
  /** The user is erased: their tokens die, the vault's keys of the stream are shredded, the username stays reserved. */
  | { type: 'UserDeleted'; data: { at: string } };

export type TokenEvent =
  | {
      type: 'TokenIssued';
      data: {
        tokenId: string;
        name: string;
        kind: TokenKind;
        format: TokenFormat;
        digest: string;
        keyPrefix: string;
        scopes: string[];
        description: string | null;
        expiresAt: string | null;
        at: string;
      };
    }
  | {
      type: 'TokenRotated';
      data: {
        tokenId: string;
        name: string;
        digest: string;
        keyPrefix: string;
        previousDigest: string;
        /** Until when the previous secret stays valid; null: it died with this event. */
        graceUntil: string | null;
        /** Secrets of earlier rotations still in grace, which this rotation ends. */
        droppedDigests: string[];
        at: string;
      };
    }
  | {
      type: 'TokenRevoked';
      data: { tokenId: string; name: string; digests: string[]; reason: string | null; at: string };
    };

/** Every event of a user's stream: the user and all of their tokens live in one stream. */
export type LedgerEvent = UserEvent | TokenEvent;
export type LedgerEventType = LedgerEvent['type'];

export const EVENT_TYPES: readonly LedgerEventType[] = [
  'UserRegistered',
  'UserPasswordSet',
  'UserPasswordRehashed',
  'UserDeactivated',
  'UserActivated',
  'UserFlagsChanged',
  'UserDeleted',
  'TokenIssued',
  'TokenRotated',
  'TokenRevoked',
];

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/**
 * The domain event a stored event is, or null for a type this version does not know (a reader
 * skips it). The one conversion from the log to the domain: the log is ours and every event in it
 * was decided by this domain, so its data is trusted to match its type; the event itself is
 * returned, not copied, since folds run over whole logs.
 */
export function ledgerEventOf(event: { readonly type: string; readonly data: unknown }): LedgerEvent | null {
  return KNOWN_TYPES.has(event.type) ? (event as LedgerEvent) : null;
}

export const USER_STREAM_PREFIX = 'user-';

export function userStreamId(username: string): string {
  return `${USER_STREAM_PREFIX}${username}`;
}

/**
 * The per-user key a user stream's id carries (the id without `user-`): an opaque HMAC for streams
 * of a sealing log, the username for streams written before. Key documents and rows by it; take
 * usernames from opened events (`subject`, `UserRegistered.data.username`), never from it.
 */
export function streamKeyOf(streamId: string): string | null {
  return streamId.startsWith(USER_STREAM_PREFIX) ? streamId.slice(USER_STREAM_PREFIX.length) : null;
}

/** The username in a stream id from before sealing (`user-<username>`); for others, see streamKeyOf. */
export function usernameOfStream(streamId: string): string | null {
  return streamId.startsWith(USER_STREAM_PREFIX) ? streamId.slice(USER_STREAM_PREFIX.length) : null;
}

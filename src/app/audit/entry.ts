import { usernameOfStream } from '../../domain/index.js';
import { ERASED } from '../../eventstore/vault/index.js';
import type { RecordedEvent } from '../../eventstore/port.js';

/**
 * One event as the audit history shows it: where it sits in the log, whom and which token it is
 * about, its data (redacted, see `redact`) and its metadata (actor, channel, source, at,
 * correlationId, eventId, prevHash, hash) exactly as stored.
 */
export interface AuditEntry {
  position: number;
  streamId: string;
  revision: number;
  type: string;
  /** The user whose stream holds the event (`[erased]` once deleted); null for a stream that is not a user's. */
  user: string | null;
  /** The token the event is about (token events), else null. */
  token: string | null;
  data: unknown;
  metadata: Record<string, unknown>;
}

/** How much of a sha256 digest the audit history shows: enough to tell tokens apart, too little to look one up. */
export const DIGEST_SHOWN = 12;

const HEX_DIGEST = /^[0-9a-f]{64}$/;

function shorten(value: unknown): unknown {
  if (typeof value === 'string' && HEX_DIGEST.test(value)) return `${value.slice(0, DIGEST_SHOWN)}…`;
  if (Array.isArray(value)) return value.map(shorten);
  return value;
}

/**
 * What may leave the log for a screen or a SIEM. Events hold no key, but they do hold scrypt
 * password hashes (offline-crackable) and full sha256 digests (the projection's lookup keys), so:
 * any field whose name says "password" keeps only whether it was set (`"[redacted]"` or null), and
 * any field whose name says "digest" shows its first 12 hex characters. Applied recursively by
 * field name, so event types added later are covered without a change here.
 */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (/password/i.test(key)) out[key] = field === null || field === undefined || field === ERASED ? field : '[redacted]';
    else if (/digest/i.test(key)) out[key] = shorten(field);
    else out[key] = redact(field);
  }
  return out;
}

/** The token name a token event is about; null for user events. */
export function tokenNameOf(event: Pick<RecordedEvent, 'type' | 'data'>): string | null {
  const name = (event.data as { name?: unknown } | null)?.name;
  return event.type.startsWith('Token') && typeof name === 'string' ? name : null;
}

export function toAuditEntry(event: RecordedEvent): AuditEntry {
  return {
    position: Number(event.position),
    streamId: event.streamId,
    revision: Number(event.revision),
    type: event.type,
    user: event.subject ?? usernameOfStream(event.streamId),
    token: tokenNameOf(event),
    data: redact(event.data),
    metadata: redact(event.metadata) as Record<string, unknown>,
  };
}

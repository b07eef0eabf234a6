import { createHmac } from 'node:crypto';
import { USER_STREAM_PREFIX, userStreamId } from '../../domain/events.js';
import type { AppendResult, EventStore, ExpectedState, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, WriteFailure } from '../port.js';
import { hasSnapshots, type SnapshotStore } from '../snapshots.js';
import type { Vault, VaultKey } from './port.js';
import { ERASED, keyIdOf, seal, unseal } from './seal.js';
import { SealedSnapshots } from './snapshots.js';

/** Data fields sealed under the stream owner's key, by name (any event type). */
const PERSONAL_FIELDS: ReadonlySet<string> = new Set(['username', 'description', 'reason']);
/** Data fields sealed under a key of their own, shredded once a newer one is appended. */
const PASSWORD_FIELD = 'passwordHash';
/** How long an HMAC stream id is, in hex characters (128 bits). */
const STREAM_HEX = 32;
const HMAC_STREAM = new RegExp(`^${USER_STREAM_PREFIX}[0-9a-f]{${STREAM_HEX}}$`);

/** Who appends, as execute knows it: the parts of the metadata that are sealed. */
export interface SealContext {
  actor: string;
  channel: string;
  source: string;
}

/** One user's events to seal, in their stream. */
export interface SealItem {
  streamId: string;
  owner: string;
  events: readonly { type: string; data: unknown }[];
}

/** The sealed events, and what has to happen once they are in the log. */
export interface Sealed {
  events: { type: string; data: unknown; metadata: Record<string, unknown> }[];
  /** Shreds what the appended events made obsolete (older password keys; every key after a delete). */
  afterAppend(): Promise<{ erased: boolean; passwordChanged: boolean }>;
}

/** `skip`: a field left as it is (sealed). */
function openFields(record: Record<string, unknown>, keys: Map<string, Buffer>, skip?: string): Record<string, unknown> {
  // for…in and a string test first: a replay opens a million records, nearly all with nothing sealed.
  let out: Record<string, unknown> | null = null;
  for (const field in record) {
    const value = record[field];
    if (typeof value !== 'string' || !value.startsWith('sealed:') || field === skip) continue;
    const keyId = keyIdOf(value);
    out ??= { ...record };
    out[field] = unseal(value, keyId === null ? undefined : keys.get(keyId));
  }
  return out ?? record;
}

function collectKeyIds(record: unknown, into: Set<string>, skip?: string): void {
  if (record === null || typeof record !== 'object') return;
  const fields = record as Record<string, unknown>;
  for (const field in fields) {
    const value = fields[field];
    if (typeof value !== 'string' || !value.startsWith('sealed:') || field === skip) continue;
    const keyId = keyIdOf(value);
    if (keyId !== null) into.add(keyId);
  }
}

/**
 * The log as every reader but `audit verify` sees it: an EventStore whose reads return events
 * with their sealed fields opened (or ERASED where the key was shredded) and `subject` set to the
 * username of the stream's user. Appends pass through untouched: `execute` seals before it
 * hashes (`seal`), since the hash chain covers the sealed form. `sealed` is the log as stored.
 */
export class SealedLog implements EventStore {
  readonly subscribe?: (onAppend: () => void) => () => void;
  readonly lastWriteFailure?: () => WriteFailure | null;
  /** The store's snapshots, sealed under each stream's user key (see SealedSnapshots); absent where the store keeps none. */
  readonly snapshotStore?: () => SnapshotStore;
  private pepperValue: Buffer | null = null;

  constructor(
    readonly sealed: EventStore,
    readonly vault: Vault,
  ) {
    if (sealed.subscribe) this.subscribe = sealed.subscribe.bind(sealed);
    if (sealed.lastWriteFailure) this.lastWriteFailure = sealed.lastWriteFailure.bind(sealed);
    if (hasSnapshots(sealed)) {
      let snapshots: SnapshotStore | null = null;
      this.snapshotStore = () => (snapshots ??= new SealedSnapshots(sealed.snapshotStore(), vault));
    }
  }

  append(streamId: string, events: NewEvent[], expected: ExpectedState): Promise<AppendResult> {
    return this.sealed.append(streamId, events, expected);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.open(await this.sealed.readStream(streamId, options));
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.open(await this.sealed.readAll(options), { passwords: options?.passwords ?? true, subjects: options?.subjects ?? true });
  }

  headPosition(): Promise<bigint> {
    return this.sealed.headPosition();
  }

  async close(): Promise<void> {
    try {
      await this.sealed.close();
    } finally {
      await this.vault.close();
    }
  }

  /**
   * Opens sealed fields with the keys that still exist: one vault query for the whole batch.
   * `passwords: false` leaves password hashes sealed, `subjects: false` subjects unset (see ReadAllOptions).
   */
  async open(events: RecordedEvent[], options: { passwords?: boolean; subjects?: boolean } = {}): Promise<RecordedEvent[]> {
    if (events.length === 0) return events;
    const skip = options.passwords === false ? PASSWORD_FIELD : undefined;
    const subjects = options.subjects !== false;
    const ids = new Set<string>();
    const streams = new Set<string>();
    for (const event of events) {
      collectKeyIds(event.data, ids, skip);
      collectKeyIds(event.metadata, ids);
      if (subjects && event.streamId.startsWith(USER_STREAM_PREFIX)) streams.add(event.streamId);
    }
    const [keys, names] = await Promise.all([this.vault.keys([...ids]), subjects ? this.vault.usernames([...streams]) : null]);
    return events.map((event) => {
      const data = event.data !== null && typeof event.data === 'object' && !Array.isArray(event.data) ? openFields(event.data as Record<string, unknown>, keys, skip) : event.data;
      const metadata = openFields(event.metadata, keys);
      const { streamId, revision, position, type } = event;
      return names ? { streamId, revision, position, type, data, metadata, subject: subjectOf(streamId, names) } : { streamId, revision, position, type, data, metadata };
    });
  }

  private async pepper(): Promise<Buffer> {
    this.pepperValue ??= await this.vault.pepper();
    return this.pepperValue;
  }

  /** `user-<hex(HMAC-SHA256(pepper, username))[0..32]>`: the stream id of a new user. */
  async hmacStreamId(username: string): Promise<string> {
    return hmacStreamOf(await this.pepper(), username);
  }

  /**
   * The stream of a username, with its (opened) events: the HMAC stream; or, when that is empty
   * and a stream `user-<username>` from before sealing has events, that one; or the (empty) HMAC
   * stream for a new user.
   */
  async resolve(username: string): Promise<{ streamId: string; history: RecordedEvent[] }> {
    const streamId = await this.hmacStreamId(username);
    const history = await this.readStream(streamId);
    if (history.length > 0) return { streamId, history };
    const legacy = userStreamId(username);
    const old = await this.readStream(legacy);
    return old.length > 0 ? { streamId: legacy, history: old } : { streamId, history };
  }

  /**
   * The stream id of a username without reading the stream when the vault knows it (a live user):
   * the HMAC stream, or a stream from before sealing that has a user key; else the HMAC stream if it
   * has events (a deleted user), else `user-<username>` if that has events, else the HMAC stream.
   */
  async streamIdOf(username: string): Promise<string> {
    const streamId = await this.hmacStreamId(username);
    const legacy = userStreamId(username);
    const known = await this.vault.usernames([streamId, legacy]);
    if (known.has(streamId)) return streamId;
    if (known.has(legacy)) return legacy;
    if ((await this.sealed.readStream(streamId, { limit: 1 })).length > 0) return streamId;
    return (await this.sealed.readStream(legacy, { limit: 1 })).length > 0 ? legacy : streamId;
  }

  /**
   * `streamIdOf` and the (opened) events of that stream, for many usernames at once: one vault
   * query for which streams have a user key, one to open every event read.
   */
  async resolveMany(usernames: readonly string[]): Promise<{ streamId: string; history: RecordedEvent[] }[]> {
    const pepper = await this.pepper();
    const hmacs = usernames.map((username) => hmacStreamOf(pepper, username));
    const legacies = usernames.map((username) => userStreamId(username));
    const known = await this.vault.usernames([...hmacs, ...legacies]);
    const chosen = usernames.map((_, i) => (known.has(hmacs[i]!) || !known.has(legacies[i]!) ? hmacs[i]! : legacies[i]!));
    // A store that reads many streams at once gets one read: each chosen stream, and the stream
    // from before sealing of every user the vault knows under neither.
    const unknown = (i: number) => !known.has(hmacs[i]!) && !known.has(legacies[i]!);
    const read = this.sealed.readStreams
      ? await this.sealed.readStreams([...chosen, ...legacies.filter((_, i) => unknown(i))])
      : null;
    const readStream = async (streamId: string) => (read ? (read.get(streamId) ?? []) : await this.sealed.readStream(streamId));
    const found: { streamId: string; history: RecordedEvent[] }[] = [];
    for (let i = 0; i < usernames.length; i++) {
      const legacy = legacies[i]!;
      let streamId = chosen[i]!;
      let history = await readStream(streamId);
      if (history.length === 0 && unknown(i)) {
        const old = await readStream(legacy);
        if (old.length > 0) [streamId, history] = [legacy, old];
      }
      found.push({ streamId, history });
    }
    const opened = await this.open(found.flatMap((user) => user.history));
    let next = 0;
    return found.map(({ streamId, history }) => ({ streamId, history: opened.slice(next, (next += history.length)) }));
  }

  /**
   * Seals what `execute` decided for `owner`'s stream: personal data fields under the owner's
   * user key (made with the stream's first event), each password hash under a new key of its own,
   * and the metadata's actor and source under the actor's key when the actor is a user here.
   */
  async seal(streamId: string, owner: string, events: readonly { type: string; data: unknown }[], context: SealContext): Promise<Sealed> {
    return (await this.sealMany([{ streamId, owner, events }], context))[0]!;
  }

  /** `seal` for the streams of many users (an import's batch): their keys made in one vault write. */
  async sealMany(items: readonly SealItem[], context: SealContext): Promise<Sealed[]> {
    const passwords = (events: SealItem['events']) => events.filter((event) => typeof (event.data as Record<string, unknown>)[PASSWORD_FIELD] === 'string').length;
    const keys = await this.vault.keysFor(items.map(({ streamId, owner, events }) => ({ streamId, username: owner, passwords: passwords(events) })));
    // Looked up once all the batch's user keys exist (an actor among the users imported included).
    const byName = context.channel !== 'cli' && items.some((item) => item.owner !== context.actor) ? await this.vault.userKeyByName(context.actor) : null;
    // The same values under the same key for every event they go with: sealed once. Under the
    // acting user's key that is every item of the batch but the actor's own.
    const sealMetadata = (actorKey: VaultKey | null, metaKey: VaultKey) => ({
      actor: actorKey ? seal(context.actor, actorKey.keyId, actorKey.secret) : context.actor,
      source: seal(context.source, metaKey.keyId, metaKey.secret),
    });
    let byActor: { actor: string; source: string } | null = null;
    return items.map(({ streamId, owner, events }, i) => {
      const { user: ownerKey, passwords: passwordKeys } = keys[i]!;
      const metadata =
        context.actor === owner ? sealMetadata(ownerKey, ownerKey) : byName ? (byActor ??= sealMetadata(byName, byName)) : sealMetadata(null, ownerKey);
      let passwordChanged = false;
      let keep: string | null = null;
      let erased = false;
      let nextPassword = 0;
      const sealed: Sealed['events'] = events.map((event) => {
        const data: Record<string, unknown> = { ...(event.data as Record<string, unknown>) };
        for (const [field, value] of Object.entries(data)) {
          if (field === PASSWORD_FIELD) {
            passwordChanged = true;
            keep = null;
            if (typeof value === 'string') {
              const key = passwordKeys[nextPassword++]!;
              data[field] = seal(value, key.keyId, key.secret);
              keep = key.keyId;
            }
          } else if (PERSONAL_FIELDS.has(field) && typeof value === 'string') {
            data[field] = seal(value, ownerKey.keyId, ownerKey.secret);
          }
        }
        if (event.type === 'UserDeleted') erased = true;
        return { type: event.type, data, metadata: { ...metadata } };
      });
      return {
        events: sealed,
        afterAppend: async () => {
          if (erased) await this.vault.shred(streamId, { all: true });
          else if (passwordChanged) await this.vault.shred(streamId, { passwordsExcept: keep });
          return { erased, passwordChanged };
        },
      };
    });
  }

  /** Deletes every key of the stream (finishing a delete that was interrupted before its shred). */
  async erase(streamId: string): Promise<number> {
    return this.vault.shred(streamId, { all: true });
  }
}

function hmacStreamOf(pepper: Buffer, username: string): string {
  return `${USER_STREAM_PREFIX}${createHmac('sha256', pepper).update(username, 'utf8').digest('hex').slice(0, STREAM_HEX)}`;
}

function subjectOf(streamId: string, names: Map<string, string>): string | undefined {
  const name = names.get(streamId);
  if (name !== undefined) return name;
  if (!streamId.startsWith(USER_STREAM_PREFIX)) return undefined;
  // An HMAC stream whose user key is gone: erased. A stream from before sealing names its user.
  return HMAC_STREAM.test(streamId) ? ERASED : streamId.slice(USER_STREAM_PREFIX.length);
}

/** The log as stored (sealed), for `audit verify`; any other store is returned as it is. */
export function sealedView(store: EventStore): EventStore {
  return store instanceof SealedLog ? store.sealed : store;
}

/** The sealing log behind a store, or null for a plain store (tests, tools): it then keeps `user-<username>` and plain values. */
export function sealedLogOf(store: EventStore): SealedLog | null {
  return store instanceof SealedLog ? store : null;
}

/** The stream id of a username, on a sealing log (see SealedLog.streamIdOf) or a plain store (`user-<username>`). */
export async function userStreamOf(store: EventStore, username: string): Promise<string> {
  return store instanceof SealedLog ? store.streamIdOf(username) : userStreamId(username);
}

/** The stream of a username and its (opened) events, on a sealing log or a plain store. */
export async function resolveUser(store: EventStore, username: string): Promise<{ streamId: string; history: RecordedEvent[] }> {
  if (store instanceof SealedLog) return store.resolve(username);
  const streamId = userStreamId(username);
  return { streamId, history: await store.readStream(streamId) };
}

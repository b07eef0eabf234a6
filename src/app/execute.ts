import { GENESIS_HASH, eventHash, fold, initialState, ledgerEventOf, decide } from '../domain/index.js';
import type { LedgerEvent, UserCommand, UserState } from '../domain/index.js';
import { ConcurrencyError, StoreUnavailableError, type NewEvent, type RecordedEvent } from '../eventstore/port.js';
import { sealedLogOf, userStreamOf, type Sealed } from '../eventstore/vault/index.js';
import { ProjectionUnavailableError } from '../projection/port.js';
import { ExecutedBehindError } from './behind.js';
import type { Actor, LedgerDeps } from './context.js';
import type { Executed } from './results.js';
import { SNAPSHOT_EVERY, encodeSnapshot, loadSnapshot, shredsSnapshots } from './snapshots.js';

const MAX_ATTEMPTS = 50;

function* ledgerEvents(events: Iterable<RecordedEvent>): Generator<LedgerEvent> {
  for (const recorded of events) {
    const event = ledgerEventOf(recorded);
    if (event !== null) yield event;
  }
}

export function foldUser(events: RecordedEvent[]): UserState {
  return fold(initialState(), ledgerEvents(events));
}

/** A user's state and where their stream ends: what a write decides on and appends after. */
export interface LoadedUser {
  streamId: string;
  state: UserState;
  /** The last event's revision and hash; null for a stream that does not exist yet. */
  last: { revision: bigint; hash: string } | null;
  /** Events folded on top of the snapshot the load started from (all of them without one). */
  tail: number;
  /** The events read for this load: the whole stream, or those after the snapshot (the first is the snapshot's own). */
  history: RecordedEvent[];
}

/**
 * What a user's stream is folded from: the snapshot the log still vouches for (the event it was
 * taken at is there, with the hash it recorded) and the events from that one on (`events[0]` is the
 * snapshot's own event, already in `base`), or, without one, the whole stream (`base` null).
 */
export async function readUserEvents(
  deps: Pick<LedgerDeps, 'store' | 'snapshots'>,
  streamId: string,
  options: { fullHistory?: boolean } = {},
): Promise<{ base: { state: UserState; at: string } | null; events: RecordedEvent[] }> {
  const snapshot = deps.snapshots && !options.fullHistory ? await loadSnapshot(deps.snapshots, streamId) : null;
  let whole: RecordedEvent[] | null = null;
  if (snapshot) {
    const read = await deps.store.readStream(streamId, { fromRevision: snapshot.revision });
    // A store (or a decorator over one) that ignores `fromRevision` returns the whole stream:
    // still correct, and reused below should the snapshot not hold up.
    if (read[0]?.revision === 0n) whole = read;
    const after = whole ? read.filter((event) => event.revision >= snapshot.revision) : read;
    const anchor = after[0];
    if (anchor && anchor.revision === snapshot.revision && anchor.metadata.hash === snapshot.anchor) {
      return { base: { state: snapshot.state, at: String(anchor.metadata.at) }, events: after };
    }
  }
  return { base: null, events: whole ?? (await deps.store.readStream(streamId)) };
}

/**
 * A user's state: from their snapshot plus the events after it when there is a snapshot the log
 * still vouches for, from the whole stream otherwise. The two give the same state; the snapshot
 * only saves the fold.
 */
export async function loadUserStream(deps: LedgerDeps, username: string, options: { fullHistory?: boolean } = {}): Promise<LoadedUser> {
  // The HMAC stream of a sealing log, or `user-<username>` (plain stores, users from before sealing).
  const streamId = await userStreamOf(deps.store, username);
  const { base, events } = await readUserEvents(deps, streamId, options);
  if (base === null) return loadedFrom(streamId, events);
  const last = events.at(-1)!;
  return {
    streamId,
    state: fold(base.state, ledgerEvents(events.slice(1))),
    last: { revision: last.revision, hash: String(last.metadata.hash) },
    tail: events.length - 1,
    history: events,
  };
}

/**
 * A user's state as their stream stood at `until` (ISO): the fold of the stream up to its last
 * event at or before `until` (should the clocks of the servers that wrote it have disagreed, the
 * order of the stream decides what came before). From the user's snapshot and the events after it
 * when the snapshot's own event is at or before `until` (now, or any time since the snapshot: at
 * most SNAPSHOT_EVERY or so events read); from the stream's start for an earlier time.
 */
export async function userStateAt(deps: Pick<LedgerDeps, 'store' | 'snapshots'>, streamId: string, until: string): Promise<UserState> {
  const { base, events } = await readUserEvents(deps, streamId);
  if (base !== null && base.at <= until) return fold(base.state, ledgerEvents(events.slice(1, lastAtOrBefore(events, until) + 1)));
  const whole = base === null ? events : await deps.store.readStream(streamId);
  return foldUser(whole.slice(0, lastAtOrBefore(whole, until) + 1));
}

/** The index of the last event at or before `until` (ISO); -1 for none. */
function lastAtOrBefore(events: readonly RecordedEvent[], until: string): number {
  let last = events.length - 1;
  while (last >= 0 && String(events[last]!.metadata.at) > until) last--;
  return last;
}

/** A user loaded from their whole stream (no snapshot). */
export function loadedFrom(streamId: string, history: RecordedEvent[]): LoadedUser {
  const last = history.at(-1);
  return {
    streamId,
    state: foldUser(history),
    last: last ? { revision: last.revision, hash: String(last.metadata.hash) } : null,
    tail: history.length,
    history,
  };
}

/**
 * After an append that replaced a password hash or erased the user: the stream's snapshots are
 * deleted (they hold the old hash), then the keys made obsolete are shredded (older password
 * hashes; every key after a delete). In that order: the deletion's floor refuses any snapshot of
 * the older state that another process saves later, so no such snapshot can be sealed under a key
 * that outlives the shred (see SealedSnapshots). The shred happens even when the deletion fails;
 * the deletion is then tried once more.
 */
async function retireObsolete(deps: LedgerDeps, streamId: string, events: LedgerEvent[], sealed: Sealed | null): Promise<void> {
  const snapshots = deps.snapshots && shredsSnapshots(events) ? deps.snapshots : null;
  let failed = false;
  try {
    await snapshots?.deleteSnapshots(streamId);
  } catch {
    failed = true;
  }
  await sealed?.afterAppend();
  if (!failed) return;
  try {
    await snapshots!.deleteSnapshots(streamId);
  } catch (error) {
    throw new StoreUnavailableError(`TOKENLEDGER_STORE: the change is saved, but the old snapshots of this user could not be deleted: ${(error as Error).message}`);
  }
}

/** After an append: a stream with SNAPSHOT_EVERY events past its snapshot gets a new one. */
async function keepSnapshots(
  deps: LedgerDeps,
  streamId: string,
  events: LedgerEvent[],
  tail: number,
  revision: bigint,
  hash: string,
  state: UserState,
): Promise<void> {
  const snapshots = deps.snapshots;
  if (!snapshots || tail < SNAPSHOT_EVERY) return;
  try {
    await snapshots.save(encodeSnapshot(streamId, revision, hash, state));
  } catch {
    // A cache: the next write past the threshold tries again.
  }
}

export async function loadUser(deps: LedgerDeps, username: string): Promise<UserState> {
  return (await loadUserStream(deps, username)).state;
}

/** A user's state and the events it was folded from (the whole stream: no snapshot). */
export async function readUser(deps: LedgerDeps, username: string): Promise<{ state: UserState; history: RecordedEvent[] }> {
  const { state, history } = await loadUserStream(deps, username, { fullHistory: true });
  return { state, history };
}

/** Decided events as the log stores them: sealed (on a sealing log), with their metadata, each chained to the one before. */
export function chain(
  deps: LedgerDeps,
  streamId: string,
  last: LoadedUser['last'],
  events: readonly LedgerEvent[],
  sealed: Sealed | null,
  actor: Actor,
  now: string,
  correlationId: string,
): { envelopes: NewEvent[]; revision: bigint; hash: string } {
  let prevHash = last ? last.hash : GENESIS_HASH;
  let revision = last ? last.revision : -1n;
  const envelopes = events.map((event, i) => {
    revision += 1n;
    const stored = sealed?.events[i];
    const metadata: Record<string, unknown> = {
      eventId: deps.newId(),
      actor: stored?.metadata.actor ?? actor.actor,
      channel: actor.channel,
      source: stored?.metadata.source ?? actor.source,
      at: now,
      correlationId,
      prevHash,
    };
    const data = stored?.data ?? event.data;
    metadata.hash = eventHash({ streamId, revision, type: event.type, data, metadata });
    prevHash = metadata.hash as string;
    return { type: event.type, data, metadata };
  });
  return { envelopes, revision, hash: prevHash };
}

/** What an append leaves to do: obsolete snapshots and keys retired, a snapshot kept. */
export async function settle(
  deps: LedgerDeps,
  streamId: string,
  events: LedgerEvent[],
  sealed: Sealed | null,
  tail: number,
  chained: { revision: bigint; hash: string },
  state: UserState,
): Promise<void> {
  await retireObsolete(deps, streamId, events, sealed);
  await keepSnapshots(deps, streamId, events, tail + events.length, chained.revision, chained.hash, state);
}

/**
 * The write path: load the user's stream, decide, chain the hashes, append with the revision
 * we decided on. A lost race reloads and decides again, so the loser sees the winner's events
 * (20 racing `token create bob` end as one token and 19 "already exists").
 */
export async function execute(
  deps: LedgerDeps,
  username: string,
  actor: Actor,
  /** `history`: the events the attempt read, from the snapshot on; all of them with `options.fullHistory`. */
  command: (now: string, state: UserState, history: readonly RecordedEvent[]) => UserCommand,
  options: {
    /** The user as the caller just loaded them (login checks the password on it): the first attempt decides on it. */
    loaded?: LoadedUser;
    /** The command reads the whole stream (the import's "set by import, then re-hashed?"): no snapshot. */
    fullHistory?: boolean;
  } = {},
): Promise<Executed> {
  const correlationId = actor.correlationId ?? deps.newId();
  const { loaded, fullHistory = false } = options;
  const log = sealedLogOf(deps.store);
  let current = loaded && (!fullHistory || loaded.tail === loaded.history.length) ? loaded : undefined;
  for (let attempt = 1; ; attempt++) {
    // One fold per attempt: a stale `loaded` only costs a ConcurrencyError and a reload.
    const { streamId, state, last, tail, history } = current ?? (await loadUserStream(deps, username, { fullHistory }));
    current = undefined;
    const now = deps.clock().toISOString();
    const events = decide(command(now, state, history), state, username);
    if (events.length === 0) return { state, events, position: null };
    // A sealing log: personal fields sealed before hashing, so the chain covers the sealed form.
    const sealed: Sealed | null = log && (await log.seal(streamId, username, events, actor));
    const chained = chain(deps, streamId, last, events, sealed, actor, now, correlationId);
    let position: bigint;
    try {
      position = (await deps.store.append(streamId, chained.envelopes, last ? last.revision : 'no_stream')).position;
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
      continue;
    }
    // Outside the retry: once appended, the command is done; deciding it again would append twice.
    const executed = { state: fold(state, events), events, position };
    await settle(deps, streamId, events, sealed, tail, chained, executed.state);
    try {
      await deps.afterAppend(position);
    } catch (error) {
      if (error instanceof ProjectionUnavailableError) throw new ExecutedBehindError(error, executed);
      throw error;
    }
    return executed;
  }
}

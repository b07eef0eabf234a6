import { GENESIS_HASH, eventHash, fold, initialState, ledgerEventOf, userStreamId, decide } from '../domain/index.js';
import type { LedgerEvent, UserCommand, UserState } from '../domain/index.js';
import { ConcurrencyError, type NewEvent, type RecordedEvent } from '../eventstore/port.js';
import { ProjectionUnavailableError } from '../projection/port.js';
import { ExecutedBehindError } from './behind.js';
import type { Actor, LedgerDeps } from './context.js';
import type { Executed } from './results.js';

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
  /** The events read to fold it (the whole stream). */
  history: RecordedEvent[];
}

export async function loadUserStream(deps: LedgerDeps, username: string): Promise<LoadedUser> {
  const streamId = userStreamId(username);
  const history = await deps.store.readStream(streamId);
  const last = history.at(-1);
  return { streamId, state: foldUser(history), last: last ? { revision: last.revision, hash: String(last.metadata.hash) } : null, history };
}

export async function loadUser(deps: LedgerDeps, username: string): Promise<UserState> {
  return (await loadUserStream(deps, username)).state;
}

/** A user's state and the events it was folded from (the whole stream: no snapshot). */
export async function readUser(deps: LedgerDeps, username: string): Promise<{ state: UserState; history: RecordedEvent[] }> {
  const history = await deps.store.readStream(userStreamId(username));
  return { state: foldUser(history), history };
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
  /** `history`: the events this attempt folded the state from. */
  command: (now: string, state: UserState, history: readonly RecordedEvent[]) => UserCommand,
  /** The user as the caller just loaded them (login checks the password on it): the first attempt decides on it. */
  loaded?: LoadedUser,
): Promise<Executed> {
  const streamId = userStreamId(username);
  const correlationId = actor.correlationId ?? deps.newId();
  let current = loaded?.streamId === streamId ? loaded : undefined;
  for (let attempt = 1; ; attempt++) {
    // One fold per attempt: a stale `loaded` only costs a ConcurrencyError and a reload.
    const { state, last, history } = current ?? (await loadUserStream(deps, username));
    current = undefined;
    const now = deps.clock().toISOString();
    const events = decide(command(now, state, history), state, username);
    if (events.length === 0) return { state, events, position: null };
    let prevHash = last ? last.hash : GENESIS_HASH;
    let revision = last ? last.revision : -1n;
    const envelopes: NewEvent[] = events.map((event) => {
      revision += 1n;
      const metadata: Record<string, unknown> = {
        eventId: deps.newId(),
        actor: actor.actor,
        channel: actor.channel,
        source: actor.source,
        at: now,
        correlationId,
        prevHash,
      };
      metadata.hash = eventHash({ streamId, revision, type: event.type, data: event.data, metadata });
      prevHash = metadata.hash as string;
      return { type: event.type, data: event.data, metadata };
    });
    let position: bigint;
    try {
      position = (await deps.store.append(streamId, envelopes, last ? last.revision : 'no_stream')).position;
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
      continue;
    }
    // Outside the retry: once appended, the command is done; deciding it again would append twice.
    const executed = { state: fold(state, events), events, position };
    try {
      await deps.afterAppend(position);
    } catch (error) {
      if (error instanceof ProjectionUnavailableError) throw new ExecutedBehindError(error, executed);
      throw error;
    }
    return executed;
  }
}

import { decide, fold, userStreamId, type LedgerEvent, type UserCommand, type UserState } from '../domain/index.js';
import { ConcurrencyError, type AppendResult, type RecordedEvent } from '../eventstore/port.js';
import { sealedLogOf, type Sealed } from '../eventstore/vault/index.js';
import type { Actor, LedgerDeps } from './context.js';
import { chain, execute, loadedFrom, settle, type LoadedUser } from './execute.js';
import type { Executed } from './results.js';

/** One user's part of a batch: the command `execute` would run for them. */
export interface BatchCommand {
  username: string;
  command: (now: string, state: UserState, history: readonly RecordedEvent[]) => UserCommand;
}

/** Many users' streams, whole (no snapshot): on a sealing log, one vault query to find them and one to open them. */
export async function loadUserStreams(deps: LedgerDeps, usernames: readonly string[]): Promise<LoadedUser[]> {
  const log = sealedLogOf(deps.store);
  const found = log
    ? await log.resolveMany(usernames)
    : await Promise.all(usernames.map(async (username) => ({ streamId: userStreamId(username), history: await deps.store.readStream(userStreamId(username)) })));
  return found.map(({ streamId, history }) => loadedFrom(streamId, history));
}

/**
 * `execute` with `fullHistory` for many users at once (an import's batch), with the same result
 * per user: each user's events appended whole or not at all, after their own expected revision.
 * What is shared is the I/O: the users are loaded together, their keys made in one vault write,
 * and their appends issued in one turn (a store that group-commits, as SQLite does, writes them
 * in one transaction). A user whose stream moved meanwhile is run again alone through `execute`.
 * Read models are not waited for: the caller waits once, for the highest position.
 */
export async function executeMany(deps: LedgerDeps, actor: Actor, batch: readonly BatchCommand[]): Promise<Executed[]> {
  const correlationId = actor.correlationId ?? deps.newId();
  const acting = { ...actor, correlationId };
  const loaded = await loadUserStreams(deps, batch.map((item) => item.username));
  const now = deps.clock().toISOString();
  const decided = batch.map(({ username, command }, i) => {
    const { state, history } = loaded[i]!;
    return decide(command(now, state, history), state, username);
  });
  const writing = batch.flatMap((item, i) => (decided[i]!.length > 0 ? [{ item, user: loaded[i]!, events: decided[i]! }] : []));
  const log = sealedLogOf(deps.store);
  const sealed: (Sealed | null)[] = log
    ? await log.sealMany(writing.map(({ item, user, events }) => ({ streamId: user.streamId, owner: item.username, events })), acting)
    : writing.map(() => null);
  const chained = writing.map(({ user, events }, i) => chain(deps, user.streamId, user.last, events, sealed[i]!, acting, now, correlationId));
  const appended = await Promise.allSettled(
    writing.map(({ user }, i) => deps.store.append(user.streamId, chained[i]!.envelopes, user.last ? user.last.revision : 'no_stream')),
  );
  const failed = appended.find((result) => result.status === 'rejected' && !(result.reason instanceof ConcurrencyError));
  const done = new Map<BatchCommand, Executed>();
  await Promise.all(
    writing.map(async ({ item, user, events }, i) => {
      const result = appended[i]!;
      if (result.status === 'rejected') return;
      const state = fold(user.state, events);
      await settle(deps, user.streamId, events, sealed[i]!, user.tail, chained[i]!, state);
      done.set(item, { state, events, position: (result as PromiseFulfilledResult<AppendResult>).value.position });
    }),
  );
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const results: Executed[] = [];
  for (const [i, item] of batch.entries()) {
    if (decided[i]!.length === 0) results.push({ state: loaded[i]!.state, events: decided[i] as LedgerEvent[], position: null });
    else results.push(done.get(item) ?? (await execute(deps, item.username, acting, item.command, { fullHistory: true })));
  }
  return results;
}

import { ledgerEventOf, UserFold, usernameOfStream, type PresentUser } from '../../src/domain/index.js';
import { logBatches } from '../../src/eventstore/log-batches.js';
import type { EventStore } from '../../src/eventstore/port.js';

/**
 * Every user as of `until` (ISO time, inclusive), folded from the whole log with the domain's own
 * fold: the reference that projections and the directory are checked against. Tests only: no
 * command reads the whole log to answer a question.
 */
export async function foldLog(store: EventStore, until?: string): Promise<Map<string, PresentUser>> {
  const states = new Map<string, UserFold>();
  for await (const batch of logBatches(store, { batch: 5_000 })) {
    for (const recorded of batch) {
      const username = usernameOfStream(recorded.streamId);
      const event = ledgerEventOf(recorded);
      if (username === null || event === null) continue;
      if (until !== undefined && String(recorded.metadata.at) > until) continue;
      let user = states.get(username);
      if (!user) states.set(username, (user = new UserFold()));
      user.apply(event);
    }
  }
  const users = new Map<string, PresentUser>();
  for (const [name, { state }] of states) if (state.exists) users.set(name, state);
  return users;
}

// A realistic log, fast: users register, get tokens (some scoped, some expiring), rotate them
// (some with grace), revoke some, get deactivated and activated. Every event comes from the real
// decider and is hash-chained like the ledger's own, but a user's events of one round go in one
// append (the ledger appends once per command, which would take hours for a million events).
// Rounds interleave the users in the log. Used by `npm run bench:rebuild` and by tests that need
// thousands of events. Imports the built domain: run `npm run build` first.
import { createHash, randomUUID } from 'node:crypto';
import { decide, evolve, eventHash, GENESIS_HASH, initialState, userStreamId } from '../dist/src/domain/index.js';

const hex = (text) => createHash('sha256').update(text).digest('hex');

/** Round 0 registers and issues, round 1 rotates, round 2 deactivates and revokes some. */
function commandsOf(u, username, round, tokensPerUser, rotations, now) {
  const names = Array.from({ length: tokensPerUser }, (_, t) => (t === 0 ? 'default' : `token-${t}`));
  if (round === 0) {
    return [
      { type: 'RegisterUser', data: { userId: hex(`user/${username}`).slice(0, 32), username, isStaff: u % 10 === 0, isSuperuser: false, passwordHash: null, now } },
      ...names.map((name, t) => ({
        type: 'IssueToken',
        data: {
          tokenId: hex(`token/${username}/${name}`).slice(0, 32),
          name,
          kind: 'named',
          format: 'tl',
          digest: hex(`key/${username}/${name}/0`),
          keyPrefix: 'tl_AbCdE',
          scopes: t % 2 === 0 ? [] : ['tokens:read'],
          description: null,
          expiresAt: t % 3 === 2 ? '2031-01-01T00:00:00.000Z' : null,
          reset: false,
          now,
        },
      })),
    ];
  }
  if (round === 1) {
    return Array.from({ length: rotations }, (_, r) =>
      names.map((name, t) => ({
        type: 'RotateToken',
        data: { name, digest: hex(`key/${username}/${name}/${r + 1}`), keyPrefix: 'tl_FgHiJ', graceMs: (u + t + r) % 4 === 0 ? 3_600_000 : 0, now },
      })),
    ).flat();
  }
  const last = [];
  if (u % 5 === 1) last.push({ type: 'DeactivateUser', data: { now } }, { type: 'ActivateUser', data: { now } });
  if (u % 5 === 2) last.push({ type: 'DeactivateUser', data: { now } });
  last.push({ type: 'RevokeToken', data: { name: names.at(-1), all: false, reason: null, now } });
  return last;
}

/**
 * Appends the history of `users` users (`u0`, `u1`, … after `prefix`) to `store`, stopping at
 * `limit` events. Returns how many events were appended.
 */
export async function appendHistory(store, { users, tokensPerUser = 5, rotations = 3, limit = Infinity, prefix = 'u', start = Date.UTC(2030, 0, 1), onRound } = {}) {
  const streams = Array.from({ length: users }, () => ({ state: initialState(), revision: -1n, prevHash: GENESIS_HASH }));
  // Generation only: the SQLite adapter syncs every append to disk (synchronous = FULL), which
  // would make this an hour of fsyncs. Durability does not matter for generated data.
  store.db?.pragma?.('synchronous = OFF');
  let written = 0;
  for (let round = 0; round < 3 && written < limit; round++) {
    for (let u = 0; u < users && written < limit; u++) {
      const username = `${prefix}${u}`;
      const streamId = userStreamId(username);
      const stream = streams[u];
      const expected = stream.revision < 0n ? 'no_stream' : stream.revision;
      const batch = [];
      const now = new Date(start + round * 86_400_000 + u).toISOString();
      for (const command of commandsOf(u, username, round, tokensPerUser, rotations, now)) {
        for (const event of decide(command, stream.state, username)) {
          if (written + batch.length >= limit) break;
          const revision = stream.revision + 1n;
          const metadata = { eventId: randomUUID(), actor: 'bench', channel: 'import', source: 'bench-host', at: now, correlationId: randomUUID(), prevHash: stream.prevHash };
          metadata.hash = eventHash({ streamId, revision, type: event.type, data: event.data, metadata });
          batch.push({ type: event.type, data: event.data, metadata });
          stream.state = evolve(stream.state, event);
          stream.revision = revision;
          stream.prevHash = metadata.hash;
        }
      }
      if (batch.length === 0) continue;
      await store.append(streamId, batch, expected);
      written += batch.length;
    }
    onRound?.(round, written);
  }
  store.db?.pragma?.('synchronous = FULL');
  return written;
}

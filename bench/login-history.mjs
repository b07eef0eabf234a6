// A user who has logged in many times: `logins` login tokens issued by the real decider (with the
// login limit, so older ones are revoked as a real server would), one every `everyMs`, ending at
// `end`, hash-chained like the ledger's own events and appended in chunks. Used by
// `npm run bench:fold` and by the tests of bounded write cost. Imports the built domain: run
// `npm run build` first.
import { createHash, randomUUID } from 'node:crypto';
import { UserFold, decide, eventHash, GENESIS_HASH, userStreamId } from '../dist/src/domain/index.js';

const hex = (text) => createHash('sha256').update(text).digest('hex');
const CHUNK = 1_000;

/** Appends the user's registration and `logins` logins; resolves to the number of events appended. */
export async function appendLoginHistory(
  store,
  { username, logins, passwordHash = null, everyMs = 15 * 60_000, ttlMs = 10 * 3_600_000, limit = 20, end = Date.now() - 60_000 },
) {
  const streamId = userStreamId(username);
  const start = end - logins * everyMs;
  const folding = new UserFold();
  let revision = -1n;
  let prevHash = GENESIS_HASH;
  let written = 0;
  let chunk = [];
  let expected = 'no_stream';
  const flush = async () => {
    if (chunk.length === 0) return;
    await store.append(streamId, chunk, expected);
    written += chunk.length;
    expected = revision;
    chunk = [];
  };
  store.db?.pragma?.('synchronous = OFF');
  for (let i = -1; i < logins; i++) {
    const now = new Date(start + Math.max(i, 0) * everyMs).toISOString();
    const command =
      i < 0
        ? { type: 'RegisterUser', data: { userId: hex(`user/${username}`).slice(0, 32), username, isStaff: false, isSuperuser: false, passwordHash, now } }
        : {
            type: 'IssueToken',
            data: {
              tokenId: hex(`token/${username}/${i}`).slice(0, 32),
              name: `login-${hex(`name/${username}/${i}`).slice(0, 10)}`,
              kind: 'login',
              format: 'tl',
              digest: hex(`key/${username}/${i}`),
              keyPrefix: 'tl_AbCdE',
              scopes: [],
              description: null,
              expiresAt: new Date(Date.parse(now) + ttlMs).toISOString(),
              reset: false,
              loginLimit: limit,
              now,
            },
          };
    for (const event of decide(command, folding.state, username)) {
      revision += 1n;
      const metadata = { eventId: randomUUID(), actor: username, channel: 'http', source: '127.0.0.1', at: now, correlationId: randomUUID(), prevHash };
      metadata.hash = eventHash({ streamId, revision, type: event.type, data: event.data, metadata });
      chunk.push({ type: event.type, data: event.data, metadata });
      folding.apply(event);
      prevHash = metadata.hash;
    }
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  store.db?.pragma?.('synchronous = FULL');
  return written;
}

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/app/ledger.js';
import { foldLog } from '../helpers/fold-log.js';
import { DomainError, GENESIS_HASH, eventHash, type PresentUser } from '../../src/domain/index.js';
import type { EventStore, RecordedEvent } from '../../src/eventstore/port.js';
import { tempLedger } from './ledger-fixture.js';
import { apply, cloneState, verdict, view, type Answer, type Cmd, type ModelState } from './reference-model.js';

const MIN = 60_000;
const PASSWORD = 'correct horse battery staple';
const PHC = /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

// Two busy users and a rare third, so most commands meet a user that exists.
const user = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('alice', 'bob') }, { weight: 1, arbitrary: fc.constant('carol') });
const name = fc.oneof({ weight: 3, arbitrary: fc.constant('default') }, { weight: 2, arbitrary: fc.constantFrom('ci', 'deploy') });
// A hash at the production cost takes tens of milliseconds on a busy 2-core machine: most
// password commands set none, about one in forty sets a real one.
const password = fc.oneof({ weight: 40, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(PASSWORD) });
const command: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('register' as const), user, password, staff: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setPassword' as const), user, password }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('deactivate' as const, 'activate' as const), user }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('issue' as const),
      user,
      name,
      reset: fc.boolean(),
      expiresIn: fc.constantFrom(null, '30m', '2h'),
      format: fc.constantFrom('tl' as const, 'drf' as const),
      scopes: fc.subarray(['tokens:read', 'users:read']),
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('rotate' as const), user, name, grace: fc.constantFrom(null, '5m', '45m') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), user, name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revokeAll' as const), user }) },
);
/** Time passing before each command: none (same instant), a second, or minutes, so graces and expiries run out. */
const step = fc.constantFrom(0, 1_000, 4 * MIN, 20 * MIN);
/**
 * Alice and bob exist from the start, so most commands reach the token rules; scenarios have up
 * to 40 commands (size "max": fast-check otherwise keeps arrays to about 10).
 */
const scenario = fc
  .array(fc.tuple(step, command), { minLength: 1, maxLength: 40, size: 'max' })
  .map((rest): [number, Cmd][] => [
    [0, { kind: 'register', user: 'alice', password: null, staff: false }],
    [0, { kind: 'register', user: 'bob', password: null, staff: true }],
    ...rest,
  ]);

interface Outcome {
  answer: Answer;
  error: string | null;
  revoked?: string[];
}

async function run(ledger: Ledger, cmd: Cmd): Promise<Outcome> {
  try {
    switch (cmd.kind) {
      case 'register':
        return { answer: { userId: (await ledger.registerUser({ username: cmd.user, password: cmd.password, isStaff: cmd.staff })).userId }, error: null };
      case 'setPassword':
        await ledger.setPassword(cmd.user, cmd.password);
        return { answer: {}, error: null };
      case 'deactivate':
        await ledger.deactivateUser(cmd.user);
        return { answer: {}, error: null };
      case 'activate':
        await ledger.activateUser(cmd.user);
        return { answer: {}, error: null };
      case 'issue': {
        const { user: username, kind: _, ...input } = cmd;
        const issued = await ledger.issueToken({ username, ...input });
        return { answer: { key: issued.key, tokenId: issued.token.tokenId }, error: null };
      }
      case 'rotate':
        return { answer: { key: (await ledger.rotateToken({ username: cmd.user, name: cmd.name, grace: cmd.grace })).key }, error: null };
      case 'revoke':
        return { answer: {}, error: null, revoked: (await ledger.revokeToken({ username: cmd.user, name: cmd.name })).revoked };
      case 'revokeAll':
        return { answer: {}, error: null, revoked: (await ledger.revokeToken({ username: cmd.user, all: true })).revoked };
    }
  } catch (error) {
    if (error instanceof DomainError) return { answer: {}, error: error.code };
    throw error;
  }
}

/** The folded log in the model's shape; a password hash shows only as "has one, well-formed". */
function normalize(users: Map<string, PresentUser>) {
  return Object.fromEntries(
    [...users].map(([username, { passwordHash, exists: _, recentLogins: _logins, ...rest }]) => [
      username,
      { ...rest, hasPassword: passwordHash === null ? false : PHC.test(passwordHash) || `malformed: ${passwordHash}` },
    ]),
  );
}

/** Every stream chains from the genesis hash, each hash covers its event, and each event says who, how and when. */
function expectChained(events: RecordedEvent[]): void {
  const last = new Map<string, string>();
  for (const event of events) {
    const { hash, ...metadata } = event.metadata;
    expect(metadata.prevHash).toBe(last.get(event.streamId) ?? GENESIS_HASH);
    expect(eventHash({ streamId: event.streamId, revision: event.revision, type: event.type, data: event.data, metadata })).toBe(hash);
    expect(metadata).toMatchObject({ actor: 'tester', channel: 'cli', source: 'test-host', at: (event.data as { at: string }).at });
    expect(typeof metadata.correlationId).toBe('string');
    last.set(event.streamId, hash as string);
  }
  expect(new Set(events.map((e) => e.metadata.eventId)).size).toBe(events.length);
}

/** Neither the SQLite file nor its WAL holds a key or a password in clear. */
function expectNoSecrets(dir: string, secrets: string[]): void {
  for (const file of ['events.db', 'events.db-wal']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    for (const secret of secrets) expect(bytes.includes(secret), `${file} holds a secret`).toBe(false);
  }
}

async function expectVerdicts(ledger: Ledger, keys: string[], state: ModelState, at: Date): Promise<void> {
  for (const key of keys) {
    expect((await ledger.verifyKey(key, at)).outcome, `key ${key.slice(0, 8)} at ${at.toISOString()}`).toBe(verdict(state, key, at.getTime()));
  }
}

async function readLog(store: EventStore) {
  return { head: await store.headPosition(), events: await store.readAll() };
}

describe('Ledger against a reference model, on a real SQLite file', () => {
  it('folded state equals the model after every command; refused commands leave the log untouched', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (commands) => {
        const fixture = tempLedger();
        const { ledger, store } = fixture;
        const model: ModelState = new Map();
        const keys: string[] = [];
        const history: { at: Date; state: ModelState }[] = [];
        try {
          for (const [index, [ms, cmd]] of commands.entries()) {
            const label = `#${index} ${JSON.stringify(cmd)}`;
            const now = fixture.advance(ms);
            const before = await readLog(store);
            const actual = await run(ledger, cmd);
            const expected = apply(model, cmd, now.getTime(), actual.answer);
            expect(actual.error, label).toBe(expected.error);
            if (actual.answer.key && expected.error === null) keys.push(actual.answer.key);
            const after = await readLog(store);
            expect(after.head - before.head, label).toBe(BigInt(expected.events));
            expect(after.events.slice(0, before.events.length), label).toEqual(before.events);
            if (expected.revoked) expect([...actual.revoked!].sort(), label).toEqual([...expected.revoked].sort());
            expect(normalize(await foldLog(store)), label).toEqual(view(model));
            history.push({ at: now, state: cloneState(model) });
          }
          const { events } = await readLog(store);
          expectChained(events);
          expectNoSecrets(fixture.dir, [...keys, PASSWORD]);
          await expectVerdicts(ledger, keys, model, fixture.now());
          // Time travel: the answer at a past instant is the model as it stood after the last command at or before it.
          for (const i of new Set([0, history.length >> 1, history.length - 1])) {
            const at = history[i]!.at;
            const then = history.filter((h) => h.at <= at).at(-1)!.state;
            await expectVerdicts(ledger, keys, then, at);
          }
        } finally {
          await fixture.dispose();
        }
      }),
      { numRuns: 25 },
    );
  });
});

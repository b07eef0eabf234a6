import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDeps } from '../../src/app/context.js';
import { Ledger } from '../../src/app/ledger.js';
import { DomainError } from '../../src/domain/index.js';
import { ConcurrencyError } from '../../src/eventstore/port.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { TEST_ACTOR, tempLedger } from './ledger-fixture.js';

let fixture: ReturnType<typeof tempLedger>;
const others: SqliteEventStore[] = [];

afterEach(async () => {
  for (const store of others.splice(0)) await store.close();
  await fixture.dispose();
});

/** Another writer on the same SQLite file, through its own connection. */
function secondLedger(): Ledger {
  const store = new SqliteEventStore(join(fixture.dir, 'events.db'));
  others.push(store);
  return new Ledger(defaultDeps(store), TEST_ACTOR);
}

const issuedEvents = async () => (await fixture.store.readAll()).filter((e) => e.type === 'TokenIssued');

describe('execute: the write path', () => {
  it('racing `token create bob` writers: one token, the others told it exists', async () => {
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'bob', password: null });
    const writers = [fixture.ledger, secondLedger(), secondLedger(), secondLedger()];
    const results = await Promise.allSettled(writers.map((l) => l.issueToken({ username: 'bob' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost.every((e) => e instanceof DomainError && e.code === 'token_exists')).toBe(true);
    expect(await issuedEvents()).toHaveLength(1);
  });

  it('racing resets: every writer wins in turn, and only the last key is live', async () => {
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'bob', password: null });
    await fixture.ledger.issueToken({ username: 'bob' });
    const writers = [fixture.ledger, secondLedger(), secondLedger()];
    const keys = (await Promise.all(writers.map((l) => l.issueToken({ username: 'bob', reset: true })))).map((r) => r.key);
    const outcomes = await Promise.all(keys.map(async (k) => (await fixture.ledger.verifyKey(k)).outcome));
    expect(outcomes.filter((o) => o === 'valid')).toHaveLength(1);
    expect((await fixture.ledger.listTokens({ user: 'bob' })).results).toHaveLength(1);
  });

  it('waits for the projection with the position of the last event appended, and only when it appended', async () => {
    fixture = tempLedger();
    const seen: bigint[] = [];
    const ledger = new Ledger({ ...fixture.ledger.deps, afterAppend: async (p) => void seen.push(p) }, TEST_ACTOR);
    await ledger.registerUser({ username: 'bob', password: null });
    await ledger.issueToken({ username: 'bob' });
    await ledger.issueToken({ username: 'bob', reset: true });
    expect(seen).toEqual([1n, 2n, 4n]);
    await ledger.activateUser('bob');
    await expect(ledger.issueToken({ username: 'bob' })).rejects.toThrow(DomainError);
    expect(seen).toEqual([1n, 2n, 4n]);
  });

  it('a failure after the append is reported, never retried into a second append', async () => {
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'bob', password: null });
    // Even an error that looks like a lost race: the events are in, deciding again would double them.
    const failing = new Ledger(
      { ...fixture.ledger.deps, afterAppend: async () => Promise.reject(new ConcurrencyError('projection', 0n, 1n)) },
      TEST_ACTOR,
    );
    await expect(failing.issueToken({ username: 'bob', reset: true })).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await issuedEvents()).toHaveLength(1);
  });

  it('one command, one correlation id, on every event it appends', async () => {
    fixture = tempLedger();
    await fixture.ledger.registerUser({ username: 'bob', password: null });
    await fixture.ledger.issueToken({ username: 'bob' });
    await fixture.ledger.as({ ...TEST_ACTOR, correlationId: 'req-42' }).issueToken({ username: 'bob', reset: true });
    const events = await fixture.store.readAll();
    expect(events.slice(2).map((e) => [e.type, e.metadata.correlationId])).toEqual([
      ['TokenRevoked', 'req-42'],
      ['TokenIssued', 'req-42'],
    ]);
    expect(events[0]!.metadata.correlationId).not.toBe(events[1]!.metadata.correlationId);
  });
});

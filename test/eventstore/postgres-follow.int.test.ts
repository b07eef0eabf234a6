import { afterAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/eventstore/open.js';
import { ConcurrencyError, type EventStore, type NewEvent } from '../../src/eventstore/port.js';
import { pgClient, pgSchemas } from './postgres-fixture.js';

const schemas = pgSchemas('follow');
afterAll(() => schemas.dropAll());

const ev = (type: string, data: unknown = {}): NewEvent => ({ type, data, metadata: { actor: 'test' } });
const schemaOf = (url: string) => new URL(url).searchParams.get('schema')!;

function waitFor(predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (predicate() ? resolve() : Date.now() > deadline ? reject(new Error('timed out')) : setTimeout(tick, 10));
    tick();
  });
}

describe('PostgreSQL event store: following the log', () => {
  it('never shows a position while an append below it is still in flight', async () => {
    const url = schemas.url();
    const store = await openEventStore(url);
    const slow = await pgClient();
    try {
      // An append that has taken its position but not committed yet, as a slow writer would.
      await slow.query('BEGIN');
      await slow.query(`SELECT * FROM "${schemaOf(url)}".append('slow', 'no_stream', $1, $2, $3)`, [['Slow'], ['{}'], ['{}']]);
      await store.append('fast', [ev('Fast')], 'no_stream');
      expect(await store.readStream('fast')).toHaveLength(1);
      expect(await store.readAll()).toEqual([]);
      await slow.query('COMMIT');
      expect((await store.readAll()).map((e) => e.type)).toEqual(['Slow', 'Fast']);
    } finally {
      await slow.end();
      await store.close();
    }
  });

  it('is not held back by an unrelated open transaction', async () => {
    const store = await openEventStore(schemas.url());
    const other = await pgClient();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_current_xact_id()');
      await store.append('s', [ev('A')], 'no_stream');
      expect((await store.readAll()).map((e) => e.type)).toEqual(['A']);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
      await store.close();
    }
  });

  it('gives a concurrent follower every event exactly once, in order', async () => {
    const url = schemas.url();
    const [writer, follower] = [await openEventStore(url), await openEventStore(url)];
    const seen: bigint[] = [];
    let done = false;
    const follow = (async () => {
      for (let after = 0n; ; ) {
        // Taken before the read: a read begun before the last commit may come back empty after it;
        // only an empty read begun once every append committed is the end.
        const writersDone = done;
        const batch = await follower.readAll({ after, limit: 25 });
        for (const event of batch) seen.push(event.position);
        after = batch.at(-1)?.position ?? after;
        if (batch.length === 0 && writersDone) return;
      }
    })();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 25; i++) await writer.append(`w${w}`, [ev('Tick', { i })], i === 0 ? 'no_stream' : BigInt(i - 1));
      }),
    );
    done = true;
    await follow;
    const all = (await writer.readAll()).map((e) => e.position);
    expect(all).toHaveLength(200);
    expect(seen).toEqual(all);
    await Promise.all([writer.close(), follower.close()]);
  });

  it('lets racing "any" appends all land, each on its own revision', async () => {
    const store = await openEventStore(schemas.url());
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.append('any', [ev('E', { i })], 'any')));
    expect((await store.readStream('any')).map((e) => e.revision)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    await expect(store.append('any', [ev('E')], 3n)).rejects.toBeInstanceOf(ConcurrencyError);
    await store.close();
  });

  it('wakes subscribers on appends from another connection, and again after the listener reconnects', async () => {
    const url = schemas.url();
    const [follower, writer] = [await openEventStore(url), await openEventStore(url)];
    let wakes = 0;
    const unsubscribe = follower.subscribe!(() => wakes++);
    await waitFor(() => wakes > 0); // the first LISTEN wakes once, so nothing before it is missed
    const base = wakes;
    await writer.append('s', [ev('A')], 'no_stream');
    await waitFor(() => wakes > base);

    const admin = await pgClient();
    const listening = async () =>
      (await admin.query(`SELECT pid FROM pg_stat_activity WHERE query = $1 AND state = 'idle'`, [`LISTEN "tokenledger:${schemaOf(url)}"`])).rows;
    const [listener] = await listening();
    await admin.query('SELECT pg_terminate_backend($1)', [listener.pid]);
    const beforeDrop = wakes;
    await waitFor(() => wakes > beforeDrop); // woken by the drop, so the follower reads what it may miss
    for (let rows = await listening(); rows.length === 0 || rows[0].pid === listener.pid; rows = await listening()) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const afterReconnect = wakes;
    await writer.append('s', [ev('B')], 0n);
    await waitFor(() => wakes > afterReconnect);
    unsubscribe();
    await admin.end();
    await Promise.all([follower.close(), writer.close()]);
  });
});

describe('PostgreSQL event store: schema and errors', () => {
  it('creates its schema once, records the version, and refuses a newer one', async () => {
    const url = schemas.url();
    const stores: EventStore[] = await Promise.all(Array.from({ length: 4 }, () => openEventStore(url)));
    await Promise.all(stores.map((s) => s.close()));
    const admin = await pgClient();
    try {
      const schema = schemaOf(url);
      expect((await admin.query(`SELECT version FROM "${schema}".schema_version`)).rows).toEqual([{ version: 1 }, { version: 2 }]);
      await admin.query(`INSERT INTO "${schema}".schema_version (version) VALUES (99)`);
      await expect(openEventStore(url)).rejects.toThrow(/^TOKENLEDGER_STORE: schema "tl_follow_\w+" is at version 99, newer than/);
    } finally {
      await admin.end();
    }
  });

  it('reports an unreachable server in one line that names the setting and not the password', async () => {
    const error = await openEventStore('postgres://alice:s3cret-pw@127.0.0.1:1/test').catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'StoreUnavailableError', code: 'unavailable' });
    expect((error as Error).message).toMatch(/^TOKENLEDGER_STORE: cannot reach PostgreSQL at 127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
    expect((error as Error).message).not.toContain('s3cret');
    expect((error as Error).message).not.toContain('\n');
  });

  it('numbers positions per transaction, refusing an append too big for one', async () => {
    const store = await openEventStore(schemas.url());
    const { position } = await store.append('big', Array.from({ length: 3 }, () => ev('E')), 'no_stream');
    expect(position % 10_000n).toBe(3n);
    const tooMany = Array.from({ length: 10_000 }, () => ev('E'));
    await expect(store.append('big', tooMany, 2n)).rejects.toThrow('append takes at most 9999 events');
    await store.close();
  });

  it('refuses a schema name it would have to quote', async () => {
    await expect(openEventStore('postgres://postgres@127.0.0.1:5432/test?schema=a";drop')).rejects.toThrow(/^TOKENLEDGER_STORE: schema "a";drop" must be/);
  });
});

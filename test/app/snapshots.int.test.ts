import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLoginHistory } from '../../bench/login-history.mjs';
import { defaultDeps, type LedgerDeps } from '../../src/app/context.js';
import { foldUser, loadUserStream } from '../../src/app/execute.js';
import { Ledger } from '../../src/app/ledger.js';
import { login } from '../../src/app/login.js';
import { SNAPSHOT_EVERY, USER_SNAPSHOT_SCHEMA, encodeSnapshot } from '../../src/app/snapshots.js';
import { DomainError, userStreamId, type UserState } from '../../src/domain/index.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { countingStore } from './audit/counting-store.js';
import { TEST_ACTOR } from './ledger-fixture.js';

const dirs: string[] = [];
const stores: SqliteEventStore[] = [];
afterAll(async () => {
  for (const store of stores) await store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2030, 0, 1);
const MIN = 60_000;

/** A ledger whose clock, ids and keys are all deterministic, so two runs of one script answer alike. */
function scriptedLedger(snapshots: 'on' | 'off') {
  const dir = mkdtempSync(join(tmpdir(), 'tl-snap-app-'));
  dirs.push(dir);
  const path = join(dir, 'events.db');
  const store = new SqliteEventStore(path);
  stores.push(store);
  let now = T0;
  let ids = 0;
  let drawn = 0;
  const deps: LedgerDeps = {
    ...defaultDeps(store),
    ...(snapshots === 'off' ? { snapshots: null } : {}),
    clock: () => new Date(now),
    newId: () => `id-${++ids}`,
    random: (size) => {
      const out = new Uint8Array(size);
      for (let i = 0; i < size; i += 32) out.set(createHash('sha256').update(`draw-${++drawn}`).digest().subarray(0, Math.min(32, size - i)), i);
      return out;
    },
  };
  return { ledger: new Ledger(deps, TEST_ACTOR), deps, store, path, advance: (ms: number) => (now += ms) };
}

type Scripted = ReturnType<typeof scriptedLedger>;

/** A fixed pseudo-random script of 300 commands, mostly on one user, over about 8 days. */
function script(): Array<(l: Ledger) => Promise<unknown>> {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const steps: Array<(l: Ledger) => Promise<unknown>> = [
    (l) => l.registerUser({ username: 'heavy', password: null }),
    (l) => l.registerUser({ username: 'other', password: null }),
  ];
  for (let i = 0; i < 300; i++) {
    const username = next(5) === 0 ? 'other' : 'heavy';
    const name = `n${next(4)}`;
    const pick = next(100);
    if (pick < 50) steps.push((l) => l.issueToken({ username, name: `login-${i}`, kind: 'login', ttlMs: 10 * 60 * MIN, loginLimit: 20 }));
    else if (pick < 63) steps.push((l) => l.issueToken({ username, name, reset: next(2) === 0, expiresIn: next(2) === 0 ? '2h' : null }));
    else if (pick < 73) steps.push((l) => l.rotateToken({ username, name, grace: next(2) === 0 ? '30m' : null }));
    else if (pick < 81) steps.push((l) => l.revokeToken({ username, name }));
    else if (pick < 83) steps.push((l) => l.revokeToken({ username, all: true }));
    else if (pick < 90) steps.push((l) => (next(2) === 0 ? l.deactivateUser(username) : l.activateUser(username)));
    else if (pick < 95) steps.push((l) => l.setUserFlags(username, { isStaff: next(2) === 0 }));
    else steps.push((l) => l.setPassword(username, null));
  }
  return steps;
}

async function run(target: Scripted, before?: () => void): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const step of script()) {
    before?.();
    target.advance(40 * MIN);
    try {
      answers.push(await step(target.ledger));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      answers.push({ error: error.code });
    }
    for (const username of ['heavy', 'other']) answers.push((await loadUserStream(target.deps, username)).state);
  }
  return answers;
}

const logOf = async (store: EventStore) => (await store.readAll()).map(({ position: _, ...event }) => event);

describe('snapshots are a cache: with them, without them, and deleted before every command, every answer is the same', () => {
  it('300 commands over 8 days (logins past the limit, expiries, rotations, revocations, password changes)', async () => {
    const cached = scriptedLedger('on');
    const none = scriptedLedger('off');
    const wiped = scriptedLedger('on');
    const wiper = new Database(wiped.path);
    const withSnapshots = await run(cached);
    const withoutSnapshots = await run(none);
    const snapshotsDeleted = await run(wiped, () => wiper.prepare('DELETE FROM snapshots').run());
    wiper.close();
    expect(withoutSnapshots).toEqual(withSnapshots);
    expect(snapshotsDeleted).toEqual(withSnapshots);
    expect(await logOf(none.store)).toEqual(await logOf(cached.store));
    expect(await logOf(wiped.store)).toEqual(await logOf(cached.store));
    // …and the snapshots were used: heavy loads from one, folding fewer than SNAPSHOT_EVERY events.
    const heavy = await loadUserStream(cached.deps, 'heavy');
    expect(heavy.last!.revision).toBeGreaterThan(BigInt(SNAPSHOT_EVERY));
    expect(heavy.tail).toBeLessThan(SNAPSHOT_EVERY);
    expect((await loadUserStream(none.deps, 'heavy')).tail).toBe(Number(heavy.last!.revision) + 1);

    // Questions about a time (`tokensAt`, `verifyKey`): from the snapshot for times after it, from
    // the stream's start before it; the same answers as without snapshots, at every time asked.
    const keys = withSnapshots.flatMap((answer) => (typeof answer === 'object' && answer !== null && 'key' in answer ? [String(answer.key)] : []));
    expect(keys.length).toBeGreaterThan(100);
    const end = cached.deps.clock().getTime();
    const times = [T0, ...Array.from({ length: 40 }, (_, i) => T0 + Math.round(((i + 1) * (end - T0)) / 40) - 1), end];
    for (const at of times) {
      const iso = new Date(at).toISOString();
      for (const username of ['heavy', 'other']) expect(await cached.ledger.tokensAt(username, iso), `${username} at ${iso}`).toEqual(await none.ledger.tokensAt(username, iso));
      for (const key of keys.filter((_, i) => i % 7 === at % 7)) {
        expect(await cached.ledger.verifyKey(key, new Date(at)), `a key at ${iso}`).toEqual(await none.ledger.verifyKey(key, new Date(at)));
      }
    }
  }, 120_000);
});

describe('a snapshot the log does not vouch for is ignored', () => {
  async function prepared() {
    const target = scriptedLedger('on');
    await target.ledger.registerUser({ username: 'heavy', password: null });
    for (let i = 0; i < 130; i++) {
      target.advance(MIN);
      await target.ledger.issueToken({ username: 'heavy', name: `login-${i}`, kind: 'login', ttlMs: 600 * MIN, loginLimit: 20 });
    }
    const full = foldUser(await target.store.readStream(userStreamId('heavy')));
    const db = new Database(target.path);
    const row = db.prepare("SELECT * FROM snapshots WHERE stream_id = 'user-heavy'").get() as Record<string, unknown> & { revision: number };
    expect(row.schema).toBe(USER_SNAPSHOT_SCHEMA);
    return { target, full, db, row };
  }
  /** Replaces the stored snapshot with one whose state says the user is a superuser. */
  function forge(db: Database.Database, snapshot: { revision: bigint; anchor: string; schema: string; body: string; checksum: string }) {
    db.prepare('UPDATE snapshots SET revision = ?, anchor = ?, schema = ?, body = ?, checksum = ? WHERE stream_id = ?').run(
      snapshot.revision,
      snapshot.anchor,
      snapshot.schema,
      snapshot.body,
      snapshot.checksum,
      'user-heavy',
    );
  }
  const superuser = (body: string) => JSON.stringify({ ...(JSON.parse(body) as object), isSuperuser: true });

  it('a damaged body (checksum mismatch)', async () => {
    const { target, full, db, row } = await prepared();
    db.prepare("UPDATE snapshots SET body = ? WHERE stream_id = 'user-heavy'").run(superuser(row.body as string));
    const loaded = await loadUserStream(target.deps, 'heavy');
    expect(loaded.state).toEqual(full);
    expect(loaded.tail).toBe(Number(loaded.last!.revision) + 1);
    db.close();
  });

  it('a snapshot of an older state schema, even with a valid checksum', async () => {
    const { target, full, db, row } = await prepared();
    const good = encodeSnapshot('user-heavy', BigInt(row.revision), row.anchor as string, JSON.parse(superuser(row.body as string)) as UserState);
    const older = { ...good, schema: 'user-state/0' };
    forge(db, { ...older, checksum: createHash('sha256').update(JSON.stringify(['user-heavy', String(older.revision), older.anchor, older.schema, older.body])).digest('base64url') });
    expect((await loadUserStream(target.deps, 'heavy')).state).toEqual(full);
    // The same forgery under today's schema would be believed: the schema check is what refused it.
    forge(db, good);
    expect((await loadUserStream(target.deps, 'heavy')).state).toMatchObject({ isSuperuser: true });
    db.close();
  });

  it('a snapshot whose anchor event is not in the log (another hash at its revision)', async () => {
    const { target, full, db, row } = await prepared();
    forge(db, encodeSnapshot('user-heavy', BigInt(row.revision), 'f'.repeat(64), JSON.parse(superuser(row.body as string)) as UserState));
    expect((await loadUserStream(target.deps, 'heavy')).state).toEqual(full);
    db.close();
  });

  it('a store that ignores fromRevision (a decorator that does not pass it on) still gives the same state, in one read', async () => {
    const { target, full, db } = await prepared();
    let reads = 0;
    const store = Object.create(target.store) as EventStore;
    store.readStream = (streamId: string) => {
      reads++;
      return target.store.readStream(streamId);
    };
    const loaded = await loadUserStream({ ...target.deps, store }, 'heavy');
    expect(loaded.state).toEqual(full);
    expect(loaded.tail).toBeLessThan(SNAPSHOT_EVERY);
    expect(reads).toBe(1);
    db.close();
  });

  it('a password change deletes the snapshot that held the old hash, and the next one holds only the new', async () => {
    const { target, db } = await prepared();
    await target.ledger.setPassword('heavy', 'First-Pass-123');
    const first = (await loadUserStream(target.deps, 'heavy')).state as { passwordHash: string };
    for (let i = 0; i < 110; i++) await target.ledger.issueToken({ username: 'heavy', name: `more-${i}` });
    expect(JSON.stringify(db.prepare('SELECT * FROM snapshots').all())).toContain(first.passwordHash);
    await target.ledger.setPassword('heavy', 'Second-Pass-456');
    const rows = JSON.stringify(db.prepare('SELECT * FROM snapshots').all());
    expect(rows).not.toContain(first.passwordHash);
    expect(db.prepare("SELECT body FROM snapshots WHERE stream_id = 'user-heavy'").get()).toEqual({ body: null });
    db.close();
  });
});

describe('a snapshot of a deleted user', () => {
  it('keeps the username reserved (a snapshot taken at the deletion itself, on a log without sealing)', async () => {
    const target = scriptedLedger('on');
    await target.ledger.registerUser({ username: 'gone', password: null });
    for (let i = 0; i < SNAPSHOT_EVERY - 2; i++) await target.ledger.issueToken({ username: 'gone', name: `t${i}` });
    await target.ledger.deleteUser('gone');
    const snapshot = await target.deps.snapshots!.load(userStreamId('gone'));
    expect(JSON.parse(snapshot!.body)).toEqual({ exists: false, deleted: true });
    expect((await loadUserStream(target.deps, 'gone')).state).toEqual({ exists: false, deleted: true });
    await expect(target.ledger.registerUser({ username: 'gone', password: null })).rejects.toBeInstanceOf(DomainError);
  }, 60_000);
});

describe('a user with 10,000 logins in their history', () => {
  it('logs in loading a snapshot and at most SNAPSHOT_EVERY events, with a state of at most 20 login tokens', async () => {
    const target = scriptedLedger('on');
    const { hashPassword } = await import('../../src/app/passwords/index.js');
    const written = await appendLoginHistory(target.store, { username: 'heavy', logins: 10_000, passwordHash: await hashPassword('Heavy-Pass-123'), end: T0 });
    expect(written).toBeGreaterThan(19_900); // 10,000 issued, 9,980 revoked by the limit
    const policy = { ttlMs: 600 * MIN, limit: 20, rate: { limit: 20, windowMs: MIN } };
    const attempt = async () => {
      target.advance(10_000);
      const result = await login(target.deps, TEST_ACTOR, { username: 'heavy', password: 'Heavy-Pass-123' }, policy);
      expect(result.ok).toBe(true);
    };
    await attempt(); // no snapshot yet: this one folds the history once, and leaves a snapshot
    for (let i = 0; i < 3; i++) await attempt();
    const loaded = await loadUserStream(target.deps, 'heavy');
    expect(loaded.tail).toBeLessThan(SNAPSHOT_EVERY);
    const state = loaded.state as { tokens: Record<string, unknown> };
    expect(Object.keys(state.tokens).length).toBeLessThanOrEqual(20);
  }, 30_000);

  it('is asked about now (token list as of a time, "was this key valid") from the snapshot, reading at most SNAPSHOT_EVERY events', async () => {
    const target = scriptedLedger('on');
    const written = await appendLoginHistory(target.store, { username: 'heavy', logins: 10_000, end: T0 });
    expect(written).toBeGreaterThan(19_900);
    target.advance(MIN);
    const { key } = await target.ledger.issueToken({ username: 'heavy', name: 'ci' }); // folds the history once, leaves a snapshot
    const counted = countingStore(target.store);
    const ledger = new Ledger({ ...target.deps, store: counted.store }, TEST_ACTOR);
    const now = target.deps.clock();
    expect(await ledger.verifyKey(key, now)).toMatchObject({ outcome: 'valid', username: 'heavy', name: 'ci' }); // the directory catches up here
    counted.read.events = 0;
    expect(await ledger.verifyKey(key, now)).toMatchObject({ outcome: 'valid', username: 'heavy', name: 'ci' });
    expect(counted.read.events).toBeLessThanOrEqual(SNAPSHOT_EVERY);
    counted.read.events = 0;
    expect((await ledger.tokensAt('heavy', now.toISOString())).map((t) => t.name)).toContain('ci');
    expect(counted.read.events).toBeLessThanOrEqual(SNAPSHOT_EVERY);
    // Before the snapshot the stream is read from its start: still the right answer.
    counted.read.events = 0;
    expect((await ledger.verifyKey(key, new Date(T0))).outcome).toBe('not_found');
    expect(counted.read.events).toBeGreaterThan(written);
  }, 60_000);
});

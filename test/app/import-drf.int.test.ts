import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadUser } from '../../src/app/execute.js';
import { login } from '../../src/app/login.js';
import { readDrf, type DrfData } from '../../src/import/index.js';
import { sharedDjangoProject } from '../fixtures/django/shared.js';
import type { DjangoManifest } from '../fixtures/django/project.js';
import { TEST_ACTOR, tempLedger } from './ledger-fixture.js';

let drf: DrfData;
let manifest: DjangoManifest;
beforeAll(async () => {
  const project = await sharedDjangoProject('sqlite');
  manifest = project.manifest;
  drf = await readDrf(`sqlite:${project.sqlitePath}`);
});

let t: ReturnType<typeof tempLedger>;
beforeEach(() => {
  t = tempLedger();
});
afterEach(() => t.dispose());

const alice = () => manifest.users.find((u) => u.username === 'alice')!;
const HTTP = { actor: 'anonymous', channel: 'http' as const, source: '203.0.113.9' };

describe('importDrf', () => {
  it('--dry-run counts what would happen and appends nothing', async () => {
    const summary = await t.ledger.importDrf(drf, { dryRun: true });
    expect(summary).toMatchObject({ dryRun: true, created: drf.users.length, unchanged: 0, conflicts: [] });
    expect(summary.events).toBe(drf.users.length + drf.users.filter((u) => u.token).length + drf.users.filter((u) => !u.isActive).length);
    expect(await t.store.headPosition()).toBe(0n);
  });

  it('imports each user whole: registered at their join date, the key as token drf created when DRF created it', async () => {
    await t.ledger.importDrf(drf);
    const read = drf.users.find((u) => u.username === 'inactive-carol')!;
    const state = await loadUser(t.ledger.deps, 'inactive-carol');
    expect(state).toMatchObject({ exists: true, active: false, createdAt: read.dateJoined, isStaff: false });
    const token = state.exists ? state.tokens.drf! : null;
    expect(token).toMatchObject({ name: 'drf', format: 'drf', kind: 'named', digest: read.token!.digest, createdAt: read.token!.created, expiresAt: null });
    // One append per user: every event of a user's stream shares one position range with nothing in between.
    const events = await t.store.readAll();
    const byStream = new Map<string, bigint[]>();
    for (const e of events) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.position]);
    for (const positions of byStream.values()) expect(positions.at(-1)! - positions[0]!).toBe(BigInt(positions.length - 1));
  });

  it('a second run appends nothing, also after a login re-hashed a password', async () => {
    await t.ledger.importDrf(drf);
    expect((await login(t.ledger.deps, HTTP, { username: 'alice', password: alice().password! }, { ttlMs: 0, limit: null })).ok).toBe(true);
    const head = await t.store.headPosition();
    const again = await t.ledger.importDrf(drf);
    expect(again).toMatchObject({ created: 0, unchanged: drf.users.length, conflicts: [], events: 0 });
    expect(await t.store.headPosition()).toBe(head);
  });

  it('a deleted user\'s username stays reserved: a conflict (deleted) on every run, also with --overwrite, and nothing appended', async () => {
    await t.ledger.importDrf(drf);
    await t.ledger.deleteUser('alice');
    const head = await t.store.headPosition();
    for (const overwrite of [false, true, false]) {
      const again = await t.ledger.importDrf(drf, { overwrite });
      expect(again.conflicts).toContainEqual({ username: 'alice', differs: ['deleted'] });
      expect(again.created).toBe(0);
      expect(again.events).toBe(0);
    }
    expect(await t.store.headPosition()).toBe(head);
    expect(await loadUser(t.ledger.deps, 'alice')).toMatchObject({ exists: false, deleted: true });
  });

  it('a user who exists with other data is a conflict: reported by field, skipped; --overwrite brings them to DRF\'s data', async () => {
    await t.ledger.registerUser({ username: 'alice', password: 'tokenledger-own-pw', isStaff: true });
    const native = await t.ledger.issueToken({ username: 'alice', name: 'ci' });
    const skipped = await t.ledger.importDrf(drf);
    expect(skipped.conflicts).toEqual([{ username: 'alice', differs: ['password', 'staff', 'token'] }]);
    expect(skipped.created).toBe(drf.users.length - 1);
    const kept = await loadUser(t.ledger.deps, 'alice');
    expect(kept).toMatchObject({ isStaff: true });
    expect(kept.exists && kept.tokens.drf).toBeUndefined();

    const overwritten = await t.ledger.importDrf(drf, { overwrite: true });
    expect(overwritten).toMatchObject({ overwritten: 1, unchanged: drf.users.length - 1, conflicts: [], tokens: 1 });
    const now = await loadUser(t.ledger.deps, 'alice');
    expect(now).toMatchObject({ isStaff: false });
    expect(now.exists && now.passwordHash).toBe(drf.users.find((u) => u.username === 'alice')!.password);
    // Tokens of its own the import does not know stay: it only brings what DRF has.
    expect((await t.ledger.verifyKey(native.key)).outcome).toBe('valid');
    expect((await t.ledger.verifyKey(alice().token!)).outcome).toBe('valid');
    expect((await t.ledger.importDrf(drf, { overwrite: true })).events).toBe(0);
  });

  it('is the work of a superuser (the operator at the shell is one): a staff caller is refused, nothing appended', async () => {
    const staff = t.ledger.as({ ...TEST_ACTOR, isSuperuser: false, isStaff: true });
    await expect(staff.importDrf(drf)).rejects.toMatchObject({ code: 'permission_denied', message: 'Only a superuser can import users.' });
    expect(await t.store.headPosition()).toBe(0n);
  });

  it('skips and reports usernames tokenledger cannot hold; counts keys whose user is missing', async () => {
    const odd: DrfData = {
      ...drf,
      users: [...drf.users, { ...drf.users[0]!, username: 'jörg with space', token: null }],
      orphanTokens: 2,
    };
    const summary = await t.ledger.importDrf(odd);
    expect(summary.invalid).toEqual([{ username: 'jörg with space', reason: expect.stringContaining('not a valid tokenledger username') }]);
    expect(summary).toMatchObject({ created: drf.users.length, orphanTokens: 2 });
  });
});

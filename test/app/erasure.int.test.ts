import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditList, auditQuery } from '../../src/app/audit/history.js';
import { verifyLog } from '../../src/app/audit/verify.js';
import { defaultDeps, operator, type Caller } from '../../src/app/context.js';
import { execute, loadUser } from '../../src/app/execute.js';
import { Ledger } from '../../src/app/ledger.js';
import { login } from '../../src/app/login.js';
import { DomainError, digestKey, userStreamId } from '../../src/domain/index.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ERASED, openLog, resolveUser, type SealedLog } from '../../src/eventstore/vault/index.js';
import { MemoryProjectionStore } from '../../src/projection/memory.js';
import { Projector } from '../../src/projection/projector.js';

const CLI: Caller = operator({ actor: 'operator', channel: 'cli', source: 'admin-host.example' });
const HTTP = (actor: string): Caller => operator({ actor, channel: 'http', source: '203.0.113.77' });
// Distinctive, so that a byte search cannot find them by chance.
const CAROL = 'carol-erasure-7f3a';
const DAVE = 'dave-erasure-19bc';

let dir: string;
let log: SealedLog;
let projection: MemoryProjectionStore;
let ledger: Ledger;

async function open(path = join(dir, 'events.db')): Promise<void> {
  log = await openLog({ store: `sqlite:${path}` });
  projection = new MemoryProjectionStore();
  const projector = new Projector(log, projection);
  ledger = new Ledger({ ...defaultDeps(log), afterAppend: async (p) => void (await projector.catchUp(p)) }, CLI);
}

afterEach(async () => {
  await log?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte of every file in the directory (log, its WAL, the vault). */
function bytesOf(directory: string): string {
  return readdirSync(directory)
    .map((name) => readFileSync(join(directory, name)).toString('latin1'))
    .join('\n');
}

/** Every password hash the user's stream ever held, read (opened) from the log while readable. */
async function hashesOf(username: string): Promise<string[]> {
  const { history } = await resolveUser(log, username);
  return history.map((e) => (e.data as { passwordHash?: unknown }).passwordHash).filter((h): h is string => typeof h === 'string' && h !== ERASED);
}

describe('sealing: personal data never reaches the log in clear', () => {
  it('keeps usernames, password hashes, addresses and descriptions out of the log files, and opens them for readers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tl-erasure-'));
    await open();
    await ledger.registerUser({ username: CAROL, password: 'carol-pw-1' });
    await ledger.as(HTTP(CAROL)).issueToken({ username: CAROL, description: 'laptop of carol-desc-55' });
    const [hash] = await hashesOf(CAROL);
    expect(hash).toMatch(/^\$argon2id\$/);
    const { streamId, history } = await resolveUser(log, CAROL);
    expect(streamId).toMatch(/^user-[0-9a-f]{32}$/);
    expect(history[0]!.data).toMatchObject({ username: CAROL });
    expect(history[1]!.metadata).toMatchObject({ actor: CAROL, source: '203.0.113.77' });
    expect(history[1]!.subject).toBe(CAROL);

    const logBytes = readFileSync(join(dir, 'events.db')).toString('latin1') + readFileSync(join(dir, 'events.db-wal')).toString('latin1');
    expect(logBytes).toContain('sealed:v1:');
    for (const secret of [CAROL, hash!, 'carol-desc-55', '203.0.113.77', 'admin-host.example']) expect(logBytes).not.toContain(secret);
    expect((await verifyLog(log)).ok).toBe(true);
  });
});

describe('password history', () => {
  it('makes the previous hash unreadable after a change: absent from every file, ERASED when read', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tl-erasure-'));
    await open();
    await ledger.registerUser({ username: CAROL, password: 'carol-pw-1' });
    const [first] = await hashesOf(CAROL);
    await ledger.setPassword(CAROL, 'carol-pw-2');
    const [gone, second] = [...(await resolveUser(log, CAROL)).history.map((e) => (e.data as { passwordHash?: unknown }).passwordHash)];
    expect(gone).toBe(ERASED);
    expect(second).toMatch(/^\$argon2id\$/);
    expect(second).not.toBe(first);
    const bytes = bytesOf(dir);
    expect(bytes).not.toContain(first!);
    expect(bytes).not.toContain(second!);
    // The new password works, the old one does not.
    const policy = { ttlMs: 0, limit: null };
    expect((await login(ledger.deps, HTTP(CAROL), { username: CAROL, password: 'carol-pw-2' }, policy)).ok).toBe(true);
    expect((await login(ledger.deps, HTTP(CAROL), { username: CAROL, password: 'carol-pw-1' }, policy)).ok).toBe(false);
    expect((await verifyLog(log)).ok).toBe(true);
  });
});

describe('user delete', () => {
  it('kills the keys at once, erases what was sealed in every file, keeps the chain valid and the username reserved', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tl-erasure-'));
    await open();
    await ledger.registerUser({ username: CAROL, password: 'carol-pw-1' });
    await ledger.registerUser({ username: DAVE, password: 'dave-pw-1', isStaff: true });
    const hashes = await hashesOf(CAROL);
    await ledger.setPassword(CAROL, 'carol-pw-2');
    hashes.push(...(await hashesOf(CAROL)));
    const carolKey = (await ledger.issueToken({ username: CAROL, description: 'carol-desc-55' })).key;
    const daveKey = (await ledger.issueToken({ username: DAVE })).key;
    const policy = { ttlMs: 0, limit: null };
    const loginKey = await login(ledger.deps, HTTP(CAROL), { username: CAROL, password: 'carol-pw-2' }, policy);
    expect(loginKey.ok).toBe(true);
    expect(hashes).toHaveLength(2); // past and present, each read while it was readable
    expect(await projection.lookup(digestKey(carolKey))).toMatchObject({ username: CAROL });
    // A millisecond back: the delete may fall in the same millisecond as "now".
    const before = new Date(Date.now() - 1);

    expect(await ledger.as(HTTP(DAVE)).deleteUser(CAROL)).toEqual({ deleted: true });

    // Read-your-writes: no key of carol's is in the projection once the delete returns.
    expect(await projection.lookup(digestKey(carolKey))).toBeNull();
    expect(await projection.lookup(digestKey((loginKey as { issued: { key: string } }).issued.key))).toBeNull();
    expect(await projection.lookup(digestKey(daveKey))).toMatchObject({ username: DAVE });
    expect((await ledger.verifyKey(carolKey)).outcome).toBe('not_found');
    // Time travel still answers for before the delete, without the name.
    expect(await ledger.verifyKey(carolKey, before)).toMatchObject({ outcome: 'valid', username: ERASED });

    const bytes = bytesOf(dir);
    for (const secret of [...hashes, CAROL, 'carol-desc-55']) expect(bytes).not.toContain(secret);
    expect(bytes).toContain(DAVE); // dave's name is in the vault: the search can find what is there

    // The events are all still there, chained; what was sealed reads ERASED.
    expect((await verifyLog(log)).ok).toBe(true);
    const { history } = await resolveUser(log, CAROL);
    expect(history.map((e) => e.type)).toEqual(['UserRegistered', 'UserPasswordSet', 'TokenIssued', 'TokenIssued', 'UserDeleted']);
    expect(history[0]!.data).toMatchObject({ username: ERASED, passwordHash: ERASED });
    expect(history[2]!.data).toMatchObject({ description: ERASED });
    expect(history.every((e) => e.subject === ERASED)).toBe(true);
    expect(history[4]!.metadata).toMatchObject({ actor: DAVE, source: '203.0.113.77' });
    const audit = await auditList(log, auditQuery({ user: CAROL }, new Date()));
    expect(audit.map((e) => e.user)).toEqual(Array(5).fill(ERASED));
    expect(audit[0]!.data).toMatchObject({ username: ERASED, passwordHash: ERASED });

    // Gone from lists; the name stays reserved; deleting again writes nothing.
    expect((await ledger.listUsers()).results.map((u) => u.username)).toEqual([DAVE]);
    expect((await loadUser(ledger.deps, CAROL)).exists).toBe(false);
    const head = await log.headPosition();
    const reserved = await ledger.registerUser({ username: CAROL, password: null }).catch((e: unknown) => e);
    expect(reserved).toBeInstanceOf(DomainError);
    expect((reserved as DomainError).message).toBe(`User ${CAROL} was deleted; the username stays reserved`);
    expect(await ledger.deleteUser(CAROL)).toEqual({ deleted: false });
    expect(await log.headPosition()).toBe(head);
    expect((await login(ledger.deps, HTTP(CAROL), { username: CAROL, password: 'carol-pw-2' }, policy)).ok).toBe(false);
    await expect(ledger.deleteUser('nobody')).rejects.toMatchObject({ code: 'user_not_found' });
  });

  it('works for a user whose stream is from before sealing (user-<name>): keys die, new events are sealed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tl-erasure-'));
    const path = join(dir, 'events.db');
    const plain = new Ledger(defaultDeps(new SqliteEventStore(path)), CLI);
    await plain.registerUser({ username: 'olduser', password: 'old-pw-1' });
    const oldKey = (await plain.issueToken({ username: 'olduser' })).key;
    await plain.close();

    await open(path);
    expect((await resolveUser(log, 'olduser')).streamId).toBe(userStreamId('olduser'));
    expect(await projection.lookup(digestKey(oldKey))).toBeNull(); // not caught up yet
    await ledger.setUserFlags('olduser', { isStaff: true });
    expect(await projection.lookup(digestKey(oldKey))).toMatchObject({ username: 'olduser', isStaff: true });
    const policy = { ttlMs: 0, limit: null };
    expect((await login(ledger.deps, HTTP('olduser'), { username: 'olduser', password: 'old-pw-1' }, policy)).ok).toBe(true);
    const { history } = await resolveUser(log, 'olduser');
    expect(history.at(-1)!.metadata.source).toBe('203.0.113.77');
    const raw = await log.sealed.readStream(userStreamId('olduser'));
    expect(String(raw.at(-1)!.metadata.source)).toMatch(/^sealed:v1:/);
    // A new user never takes the name of an old stream, sealed or not.
    await expect(ledger.registerUser({ username: 'olduser', password: null })).rejects.toMatchObject({ code: 'user_exists' });

    await ledger.deleteUser('olduser');
    expect(await projection.lookup(digestKey(oldKey))).toBeNull();
    expect((await verifyLog(log)).ok).toBe(true);
  });
});

describe('old scrypt hashes on a sealing log', () => {
  it('log in, are re-hashed once (the scrypt hash becomes unreadable), the next login uses the new hash, tokens untouched', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tl-erasure-'));
    await open();
    // Written by tokenledger's previous hashPassword (scrypt, ln=15) for "café-wonderland".
    const legacy = '$scrypt$ln=15,r=8,p=1$BqXfDHsirsPkd4SnfOivhA$IDhi3kCwmq+qV8v3mNfBm7Jvkf33zqkSwDmXeDJx9wE';
    await execute(ledger.deps, 'oldhash', CLI, (now) => ({
      type: 'RegisterUser',
      data: { userId: 'id-oldhash', username: 'oldhash', isStaff: false, isSuperuser: false, passwordHash: legacy, now },
    }));
    const key = (await ledger.issueToken({ username: 'oldhash' })).key;
    const policy = { ttlMs: 0, limit: null };
    expect((await login(ledger.deps, HTTP('oldhash'), { username: 'oldhash', password: 'caf\u00e9-wonderland' }, policy)).ok).toBe(true);
    const { history } = await resolveUser(log, 'oldhash');
    const rehashed = history.filter((e) => e.type === 'UserPasswordRehashed');
    expect(rehashed).toHaveLength(1);
    expect((rehashed[0]!.data as { passwordHash: string }).passwordHash).toMatch(/^\$argon2id\$/);
    expect(history[0]!.data).toMatchObject({ passwordHash: ERASED });
    expect(bytesOf(dir)).not.toContain(legacy);
    expect(await projection.lookup(digestKey(key))).toMatchObject({ username: 'oldhash' });
    expect((await login(ledger.deps, HTTP('oldhash'), { username: 'oldhash', password: 'caf\u00e9-wonderland' }, policy)).ok).toBe(true);
    expect((await resolveUser(log, 'oldhash')).history.filter((e) => e.type === 'UserPasswordRehashed')).toHaveLength(1);
  });
});

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLog, resolveUser } from '../../src/eventstore/vault/index.js';
import { PG_BASE_URL, pgSchemas } from '../eventstore/postgres-fixture.js';
import { call, loginKey, REDIS_URL, startService, type Service } from '../http/harness.js';
import { freshStore, keyOf, tl } from './cli.js';

// Distinctive names, new on each run, so that a byte search cannot find them by chance (nor in what
// another run left behind).
const RUN = randomBytes(4).toString('hex');
const CAROL = `carol-del-${RUN}`;
const DAVE = `dave-staff-${RUN}`;

/** Every password hash carol's stream holds now, read (opened) from the log, where they live. */
async function currentHashes(store: string, username = CAROL): Promise<string[]> {
  const log = await openLog({ store });
  try {
    const { history } = await resolveUser(log, username);
    return history.map((e) => (e.data as { passwordHash?: unknown }).passwordHash).filter((h): h is string => typeof h === 'string' && h.startsWith('$'));
  } finally {
    await log.close();
  }
}

/** Redis as a whole, in the RDB format it would back up (`redis-cli --rdb`). */
function redisDump(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-rdb-'));
  try {
    const { hostname, port } = new URL(REDIS_URL);
    execFileSync('redis-cli', ['-h', hostname, '-p', port, '--rdb', join(dir, 'dump.rdb')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'dump.rdb')).toString('latin1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a key answers on a service now; on one that follows the log from another process, within a second. */
async function answer(service: Service, key: string, expected?: number): Promise<[number, string]> {
  for (const deadline = Date.now() + 1_000; ; ) {
    const reply = await call(`${service.url}/api/whoami/`, { token: key });
    if (expected === undefined || reply.status === expected || Date.now() > deadline) return [reply.status, reply.text];
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const services: Service[] = [];
const schemas = pgSchemas('erase');
const pgStores: string[] = [];
afterAll(async () => {
  for (const service of services) await service.close();
  await schemas.dropAll();
  // The vault and the directory live in schemas of their own beside the log's.
  for (const store of pgStores) {
    const schema = new URL(store).searchParams.get('schema')!;
    for (const suffix of ['_vault', '_directory']) execFileSync('psql', ['--dbname', PG_BASE_URL, '-qc', `DROP SCHEMA IF EXISTS "${schema}${suffix}" CASCADE`], { stdio: 'ignore' });
  }
});

describe('user delete (CLI) on SQLite, with servers on memory and on Redis', () => {
  it("kills carol's keys on both, leaves none of her password hashes in the SQLite files or Redis, and audit verify passes", async () => {
    const { url: store, dir } = freshStore();
    expect((await tl(['user', 'create', CAROL, '--password-stdin'], { store, input: 'carol-pw-1\n' })).code).toBe(0);
    const hashes = await currentHashes(store);
    expect((await tl(['user', 'passwd', CAROL, '--password-stdin'], { store, input: 'carol-pw-2\n' })).code).toBe(0);
    hashes.push(...(await currentHashes(store)));
    expect(hashes).toHaveLength(2);
    expect((await tl(['user', 'create', DAVE, '--staff', '--password-stdin'], { store, input: 'dave-pw-1\n' })).code).toBe(0);
    const carolKey = keyOf(await tl(['token', 'create', CAROL, '--description', 'carol-laptop-31'], { store }));
    const daveKey = keyOf(await tl(['token', 'create', DAVE], { store }));

    const memory = await startService({ store });
    const redis = await startService({ store }, { redis: true });
    services.push(memory, redis);
    const loginKeyOfCarol = await loginKey(redis.url, CAROL, 'carol-pw-2');
    for (const service of [memory, redis]) {
      expect((await answer(service, carolKey, 200))[0]).toBe(200);
      expect((await answer(service, loginKeyOfCarol, 200))[0]).toBe(200);
    }

    // Without a terminal and without --no-input, nothing happens.
    const refused = await tl(['user', 'delete', CAROL], { store });
    expect([refused.code, refused.stderr.trim()]).toEqual([2, 'Not deleted: confirm with --no-input when stdin is not a terminal (deletion cannot be undone).']);
    const env = { TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: redis.settings.redisPrefix };
    const run = await tl(['user', 'delete', CAROL, '--no-input'], { store, env });
    expect([run.code, run.stdout, run.stderr]).toEqual([0, '', `User ${CAROL} deleted: their tokens no longer work and their personal data is erased.\n`]);

    // Redis is caught up when the command exits (read-your-writes); the memory server follows the log.
    expect(await answer(redis, carolKey)).toEqual([401, '{"detail":"Invalid token."}']);
    expect(await answer(redis, loginKeyOfCarol)).toEqual([401, '{"detail":"Invalid token."}']);
    expect(await answer(memory, carolKey, 401)).toEqual([401, '{"detail":"Invalid token."}']);
    expect(await answer(memory, loginKeyOfCarol, 401)).toEqual([401, '{"detail":"Invalid token."}']);
    expect((await answer(redis, daveKey))[0]).toBe(200);

    const files = readdirSync(dir).map((name) => readFileSync(join(dir, name)).toString('latin1')).join('\n');
    const rdb = redisDump();
    expect(files).toContain('sealed:v1:');
    expect(rdb).toContain(DAVE); // the dump holds live users' records: the search can find what is there
    for (const secret of [...hashes, CAROL, 'carol-laptop-31']) {
      expect(files).not.toContain(secret);
      expect(rdb).not.toContain(secret);
    }

    const verify = await tl(['audit', 'verify', '--json'], { store });
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, damageCount: 0 });
    const audit = await tl(['audit', '--user', CAROL, '--format', 'jsonl'], { store });
    const entries = audit.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; user: string; data: Record<string, unknown> });
    expect(entries.map((e) => e.type)).toEqual(['UserRegistered', 'UserPasswordSet', 'TokenIssued', 'TokenIssued', 'UserDeleted']);
    expect(entries.every((e) => e.user === '[erased]')).toBe(true);
    expect(entries[0]!.data).toMatchObject({ username: '[erased]', passwordHash: '[erased]' });

    const again = await tl(['user', 'create', CAROL, '--no-password'], { store });
    expect([again.code, again.stderr.trim()]).toEqual([1, `User ${CAROL} was deleted; the username stays reserved`]);
    const list = await tl(['user', 'list', '--json'], { store });
    const listed = JSON.parse(list.stdout) as { results?: { username: string }[] } | { username: string }[];
    expect((Array.isArray(listed) ? listed : listed.results!).map((u) => u.username)).toEqual([DAVE]);
  });
});

describe('DELETE /api/users/<username>/ (staff) on PostgreSQL', () => {
  it("answers 204, kills carol's keys on memory and Redis, leaves none of her hashes in pg_dump or Redis; a password change alone already erases the old hash", async () => {
    const store = schemas.url();
    pgStores.push(store);
    const memory = await startService({ store });
    const redis = await startService({ store }, { redis: true });
    services.push(memory, redis);
    await redis.ledger.registerUser({ username: DAVE, password: 'dave-pw-1', isStaff: true });
    await redis.ledger.registerUser({ username: CAROL, password: 'carol-pw-1' });
    const hashes = await currentHashes(store);
    const staff = await loginKey(redis.url, DAVE, 'dave-pw-1');
    const changed = await call(`${redis.url}/api/users/${CAROL}/password/`, { method: 'POST', token: staff, json: { password: 'carol-pw-2' } });
    expect(changed.status).toBe(200);
    hashes.push(...(await currentHashes(store)));
    expect(hashes).toHaveLength(2);
    const dumpAfterChange = pgDump();
    expect(dumpAfterChange).toContain('sealed:v1:');
    expect(dumpAfterChange).not.toContain(hashes[0]!);
    expect(dumpAfterChange).not.toContain(hashes[1]!); // sealed, not erased: present but unreadable without the vault

    const carolKey = await loginKey(redis.url, CAROL, 'carol-pw-2');
    const carolToken = (await redis.ledger.issueToken({ username: CAROL, description: 'carol-phone-77' })).key;
    for (const service of [memory, redis]) expect((await answer(service, carolToken, 200))[0]).toBe(200);

    // Only staff may delete.
    expect((await call(`${redis.url}/api/users/${CAROL}/`, { method: 'DELETE', token: carolKey })).status).toBe(403);
    const deleted = await call(`${redis.url}/api/users/${CAROL}/`, { method: 'DELETE', token: staff });
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expect(await answer(redis, carolKey)).toEqual([401, '{"detail":"Invalid token."}']);
    expect(await answer(redis, carolToken)).toEqual([401, '{"detail":"Invalid token."}']);
    expect(await answer(memory, carolToken, 401)).toEqual([401, '{"detail":"Invalid token."}']);
    expect(await answer(memory, carolKey, 401)).toEqual([401, '{"detail":"Invalid token."}']);
    const twice = await call(`${redis.url}/api/users/${CAROL}/`, { method: 'DELETE', token: staff });
    expect(twice.status).toBe(404);
    expect((await call(`${redis.url}/api/users/${CAROL}/`, { token: staff })).status).toBe(404);

    const dump = pgDump();
    const rdb = redisDump();
    expect(dump).toContain(DAVE); // dave is alive: his name is in the vault schema
    for (const secret of [...hashes, CAROL, 'carol-phone-77']) {
      expect(dump).not.toContain(secret);
      expect(rdb).not.toContain(secret);
    }
    const verify = await tl(['audit', 'verify', '--json'], { store });
    expect([verify.code, JSON.parse(verify.stdout).ok]).toEqual([0, true]);
  });
});

/** The whole test database (every schema: log, vault, everyone else's), as `pg_dump` backs it up. */
function pgDump(): string {
  return execFileSync('pg_dump', ['--dbname', PG_BASE_URL], { maxBuffer: 1 << 30 }).toString('latin1');
}

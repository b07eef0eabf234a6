import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../src/app/audit/verify.js';
import { openEventStore } from '../../src/eventstore/open.js';
import type { EventStore, RecordedEvent } from '../../src/eventstore/port.js';
import { readUser } from '../../src/app/execute.js';
import type { Ledger } from '../../src/app/ledger.js';
import { readDrf } from '../../src/import/index.js';
import { freshStore, ledgerOf, tl, type Run } from '../commands/cli.js';
import { sharedDjangoProject } from '../fixtures/django/shared.js';
import type { DjangoProject } from '../fixtures/django/project.js';
import { dropPrefix, REDIS_URL } from '../http/harness.js';
import { spawnServe, type ServeProcess } from '../http/process.js';

const execFileAsync = promisify(execFile);
const ANSWERS = new URL('../fixtures/django/drf_answers.py', import.meta.url).pathname;
const UNABLE = '{"non_field_errors":["Unable to log in with provided credentials."]}';

type Project = Omit<DjangoProject, 'cleanup'>;

/** How DRF itself answers GET /api/whoami/ for each key (drf_answers.py, on the same database). */
export async function drfAnswers(project: Project, keys: string[]): Promise<[number, string][]> {
  const child = execFileAsync('/usr/bin/python3', [ANSWERS, '--dir', project.dir], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  child.child.stdin!.end(JSON.stringify(keys));
  return JSON.parse((await child).stdout) as [number, string][];
}

/** Every key the project ever made: live ones, the one `-r` replaced, those of a user deleted in Django; and one never made. */
export function everyKey(project: Project): string[] {
  const { users, deletedKeys } = project.manifest;
  return [
    ...users.flatMap((u) => (u.token ? [u.token] : [])),
    ...users.flatMap((u) => (u.previousToken ? [u.previousToken] : [])),
    ...deletedKeys,
    'f'.repeat(40),
  ];
}

async function get(url: string, key: string, retry = false): Promise<[number, string]> {
  for (let attempt = 1; ; attempt++) {
    const reply = await fetch(`${url}/api/whoami/`, { headers: { Authorization: `Token ${key}` } });
    const body = await reply.text();
    // A login token is in the log when its login answers; on a loaded machine the projection may take a moment longer.
    if (!retry || reply.status !== 503 || attempt === 50) return [reply.status, body];
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** POST /api-token-auth/ from a client address of the user's own (serve trusts one proxy), so users log in side by side. */
async function obtain(url: string, username: string, password: string): Promise<[number, string]> {
  const address = `198.51.100.${createHash('sha256').update(username).digest()[0]! % 250 + 1}`;
  for (let attempt = 1; ; attempt++) {
    const reply = await fetch(`${url}/api-token-auth/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': address },
      body: JSON.stringify({ username, password }),
    });
    // 503: the server's cap on password checks in flight is reached (a loaded machine); a client tries again.
    if (reply.status !== 503 || attempt === 50) return [reply.status, await reply.text()];
    await reply.text();
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function inParallel<T>(width: number, items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function redisDump(prefix: string): Promise<string> {
  const redis = new Redis(REDIS_URL);
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      for (const key of keys) {
        out.push(key);
        const type = await redis.type(key);
        if (type === 'string') out.push((await redis.getBuffer(key))!.toString('latin1'));
        else if (type === 'hash') out.push(...Object.entries(await redis.hgetallBuffer(key)).flatMap(([f, v]) => [f, v.toString('latin1')]));
        else if (type === 'set') out.push(...(await redis.smembers(key)));
        else if (type === 'zset') out.push(...(await redis.zrange(key, '0', '-1')));
        else if (type === 'list') out.push(...(await redis.lrange(key, '0', '-1')));
        else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
      cursor = next;
    } while (cursor !== '0');
    return out.join('\n');
  } finally {
    redis.disconnect();
  }
}

/**
 * The acceptance of `tokenledger import drf` for one kind of source, on a project real Django
 * built: the import, every key on `serve` against DRF's own answers, every password through
 * POST /api-token-auth/ with its one re-hash, a second import appending nothing, and no secret in
 * the store's files, Redis, the logs at trace level or any output.
 */
export function describeDrfImport(title: string, engine: 'sqlite' | 'postgres', sourceOf: (project: Project) => string[]): void {
  describe(title, () => {
    let project: Project;
    let store: ReturnType<typeof freshStore>;
    let events: EventStore;
    /** The log as the app reads it (opened, should events ever hold sealed fields): for what the events say. */
    let ledger: Ledger;
    let serve: ServeProcess;
    let serveLogs = '';
    let drf: Promise<[number, string][]>;
    const outputs: string[] = [];
    const prefix = `tltest:import:${randomUUID()}:`;
    const env = { LOG_LEVEL: 'trace', TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: prefix, TOKENLEDGER_LOGIN_THROTTLE: 'off', TOKENLEDGER_TRUSTED_PROXIES: '1' };
    const run = async (args: string[]): Promise<Run> => {
      const result = await tl(args, { store: store.url, env });
      outputs.push(result.stdout, result.stderr);
      return result;
    };

    beforeAll(async () => {
      project = await sharedDjangoProject(engine);
      drf = drfAnswers(project, everyKey(project));
      drf.catch(() => {});
      store = freshStore();
      // Held open so SQLite keeps its WAL file for the secrets check (the CLI is not the last connection).
      events = await openEventStore(store.url);
      await events.headPosition();
      ledger = await ledgerOf(store.url);
    });
    afterAll(async () => {
      serve?.child.kill('SIGTERM');
      await serve?.exited;
      await events?.close();
      await ledger?.close();
      await dropPrefix(prefix);
      if (store) rmSync(store.dir, { recursive: true, force: true });
    });

    const users = () => project.manifest.users;
    const valid = () => users().filter((u) => u.username !== 'crypt' && u.algorithm !== null);

    it('imports every user and key: counts by algorithm, channel import, the operator as actor, no password in the source', async () => {
      const first = await run(['import', 'drf', ...sourceOf(project), '--json']);
      expect(first.code, first.stderr).toBe(0);
      const summary = JSON.parse(first.stdout);
      const withToken = users().filter((u) => u.token !== null).length;
      expect(summary).toMatchObject({
        dryRun: false,
        users: users().length,
        created: users().length,
        unchanged: 0,
        conflicts: [],
        invalid: [],
        tokens: withToken,
        orphanTokens: 0,
        // Each user registered, each key issued, the inactive one deactivated.
        events: users().length + withToken + users().filter((u) => !u.isActive).length,
      });
      expect(summary.passwords).toMatchObject({ unusable: 1, unsupported: 1, pbkdf2_sha1: 1, argon2: 1, bcrypt_sha256: 1, bcrypt: 1, md5: 1, sha1: 1 });
      expect(summary.source).not.toMatch(/:[^:@/]*@/);

      const all = await ledger.store.readAll();
      expect(all.length).toBe(summary.events);
      for (const e of all) expect(e.metadata).toMatchObject({ channel: 'import', source: summary.source, actor: expect.any(String) });
      expect(new Set(all.map((e) => e.metadata.correlationId)).size).toBe(1);
      const tokens = all.filter((e) => e.type === 'TokenIssued').map((e) => e.data as { name: string; format: string; at: string });
      expect(tokens).toHaveLength(withToken);
      for (const t of tokens) expect(t).toMatchObject({ name: 'drf', format: 'drf' });
    });

    it('every DRF key answers GET /api/whoami/ on serve as DRF answers it (same user, inactive and unknown keys refused alike)', async () => {
      serve = await spawnServe(store.dir, { ...env, TOKENLEDGER_STORE: store.url });
      serve.child.stderr!.on('data', (chunk: Buffer) => (serveLogs += chunk.toString('utf8')));
      const keys = everyKey(project);
      const answers = await drf;
      const ours = await Promise.all(keys.map((key) => get(serve.url, key)));
      expect(answers.filter(([status]) => status === 200).length).toBe(users().filter((u) => u.token && u.isActive).length);
      for (const [i, [status, body]] of answers.entries()) {
        const [ourStatus, ourBody] = ours[i]!;
        expect(ourStatus, `key ${i}`).toBe(status);
        if (status === 200) expect(JSON.parse(ourBody).username).toBe(JSON.parse(body).username);
        else expect(ourBody).toBe(body);
      }
    });

    it('every imported password logs in through POST /api-token-auth/, once re-hashed; a wrong one does not; none for unusable or crypt', async () => {
      const rehashesOf = async (username: string): Promise<RecordedEvent[]> =>
        (await readUser(ledger.deps, username)).history.filter((e) => e.type === 'UserPasswordRehashed');
      // Users one after the other would take a bcrypt or a PBKDF2 run each in turn; four side by side share
      // the cores and stay under serve's cap on password checks in flight (8 by default).
      await inParallel(4, valid(), async (user) => {
          const wrong = await obtain(serve.url, user.username, `${user.password}x`);
          expect(wrong, user.username).toEqual([400, UNABLE]);
          const [status, body] = await obtain(serve.url, user.username, user.password!);
          if (!user.isActive) {
            expect([status, body], user.username).toEqual([400, UNABLE]);
            return;
          }
          expect(status, `${user.username} (${user.algorithm})`).toBe(200);
          const token = JSON.parse(body).token as string;
          expect(await get(serve.url, token, true)).toEqual([200, expect.stringContaining(`"username":"${user.username}"`)]);
          expect(await rehashesOf(user.username), user.username).toHaveLength(1);
          // The next login verifies against the new hash (the Django one is gone from the state), re-hashing nothing.
          expect((await obtain(serve.url, user.username, user.password!))[0], user.username).toBe(200);
          const [rehash, ...more] = await rehashesOf(user.username);
          expect(more).toEqual([]);
          expect((rehash!.data as { passwordHash: string }).passwordHash).toMatch(/^\$argon2id\$/);
      });
      for (const username of ['sso-bob', 'crypt']) {
        const user = users().find((u) => u.username === username)!;
        expect(await obtain(serve.url, username, user.password ?? 'anything')).toEqual([400, UNABLE]);
        expect(await rehashesOf(username)).toEqual([]);
      }
      // The DRF keys of users who logged in still work: a re-hash is not a password change.
      for (const user of valid().filter((u) => u.isActive && u.token)) expect((await get(serve.url, user.token!))[0]).toBe(200);
    });

    it('a second import appends nothing and says so, also after logins re-hashed the passwords', async () => {
      const before = await events.headPosition();
      const again = await run(['import', 'drf', ...sourceOf(project)]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`Nothing to import: all ${users().length} users of`);
      expect(again.stdout).toContain('(0 events appended)');
      expect(await events.headPosition()).toBe(before);
      expect(await verifyLog(events)).toMatchObject({ ok: true });
    });

    it('leaves no DRF key and no password in the store files, Redis, the trace logs or any output; Django hashes only in the store', async () => {
      const audit = await run(['audit', '--format', 'jsonl']);
      expect(audit.code).toBe(0);
      const files = [store.path, `${store.path}-wal`].filter(existsSync).map((p) => readFileSync(p).toString('latin1'));
      const stored = files.join('\n');
      const redis = await redisDump(prefix);
      expect(redis.length).toBeGreaterThan(0);
      const logs = [...serve.stdout, serveLogs].join('\n');
      expect(logs).toContain('/api-token-auth/');
      const said = [...outputs, logs].join('\n');
      const keys = everyKey(project).slice(0, -1);
      for (const key of keys) {
        for (const [where, text] of [['store', stored], ['redis', redis], ['output and logs', said]] as const) {
          expect(text.includes(key), `${where} holds a DRF key`).toBe(false);
        }
      }
      for (const user of users()) {
        if (user.password === null) continue;
        for (const [where, text] of [['store', stored], ['redis', redis], ['output and logs', said]] as const) {
          expect(text.includes(user.password), `${where} holds ${user.username}'s password`).toBe(false);
        }
      }
      // The Django hashes, as the source holds them: never said anywhere (the store keeps them sealed).
      const hashes = (await readDrf(sourceOf(project)[0]!)).users.map((u) => u.password).filter((h) => h.length > 20 && !h.startsWith('!'));
      expect(hashes.length).toBeGreaterThan(10);
      for (const hash of hashes) {
        // Sealed in the log (docs/privacy.md): the store files never hold one in clear.
        expect(stored.includes(hash), 'the store holds a Django hash in clear').toBe(false);
        expect(said.includes(hash), 'output holds a password hash').toBe(false);
        expect(redis.includes(hash), 'redis holds a password hash').toBe(false);
      }
    });
  });
}

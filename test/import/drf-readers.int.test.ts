import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestKey } from '../../src/domain/index.js';
import { describeSource, parseSource, readDrf, type DrfData } from '../../src/import/index.js';
import { sharedDjangoProject } from '../fixtures/django/shared.js';
import type { DjangoProject } from '../fixtures/django/project.js';

type Project = Omit<DjangoProject, 'cleanup'>;
let sqlite: Project;
let postgres: Project;
let scratch: string;
beforeAll(async () => {
  [sqlite, postgres] = await Promise.all([sharedDjangoProject('sqlite'), sharedDjangoProject('postgres')]);
  scratch = mkdtempSync(join(tmpdir(), 'tl-drf-readers-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What a reader hands over, in a form two readers of the same project must agree on. */
function shape(data: DrfData) {
  return data.users
    .map((u) => ({ ...u }))
    .sort((a, b) => a.username.localeCompare(b.username));
}

function expectManifest(project: Project, data: DrfData): void {
  const { users } = project.manifest;
  expect(data.users.map((u) => u.username).sort()).toEqual(users.map((u) => u.username).sort());
  for (const user of users) {
    const read = data.users.find((u) => u.username === user.username)!;
    expect([read.isActive, read.isStaff, read.isSuperuser], user.username).toEqual([user.isActive, user.isStaff, user.isSuperuser]);
    expect(read.password.startsWith('!'), user.username).toBe(user.algorithm === null);
    expect(read.token?.digest ?? null, user.username).toBe(user.token === null ? null : digestKey(user.token));
    expect(read.token?.keyPrefix ?? null).toBe(user.token?.slice(0, 8) ?? null);
    expect(read.dateJoined).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // Never the key itself: only what the reader derived from it.
    expect(JSON.stringify(read)).not.toContain(user.token ?? '\u0000');
  }
  expect(data.orphanTokens).toBe(0);
}

describe('reading a DRF project', () => {
  it('from SQLite, from PostgreSQL and from every dumpdata variant: the manifest\'s users, flags, key digests', async () => {
    const fromDb = await readDrf(`sqlite:${sqlite.sqlitePath}`);
    expectManifest(sqlite, fromDb);
    expectManifest(postgres, await readDrf(postgres.postgresUrl!));
    for (const [variant, path] of Object.entries(sqlite.manifest.dumps)) {
      const fromDump = await readDrf(path);
      expectManifest(sqlite, fromDump);
      // The same users as the database: dumpdata cuts times to milliseconds, as the readers do.
      expect(shape(fromDump), variant).toEqual(shape(fromDb));
    }
  });

  it('takes a SQLite file by its header without the sqlite: prefix, and names sources without a password', async () => {
    expect(parseSource(sqlite.sqlitePath!)).toEqual({ kind: 'sqlite', path: sqlite.sqlitePath });
    expect(parseSource(sqlite.manifest.dumps.plain)).toEqual({ kind: 'dumpdata', path: sqlite.manifest.dumps.plain });
    expect(describeSource(parseSource('postgres://app:s3cr3t-pw@db.internal:5433/app?sslmode=require'))).toBe('postgres://app@db.internal:5433/app');
    const failure = await readDrf('postgres://app:s3cr3t-pw@127.0.0.1:1/app').catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^source: cannot connect to postgres:\/\/app@127\.0\.0\.1:1\/app/);
    expect((failure as Error).message).not.toContain('s3cr3t');
  });

  it('reads a custom user table with --user-table, by column name in any order', async () => {
    const path = join(scratch, 'custom.sqlite3');
    copyFileSync(sqlite.sqlitePath!, path);
    const db = new Database(path);
    // A custom user model's table, its columns in another order, with a column Django's lacks.
    db.exec(`
      CREATE TABLE accounts_user (date_joined datetime NOT NULL, nickname text, is_superuser bool NOT NULL, id integer PRIMARY KEY,
        is_staff bool NOT NULL, username varchar(150) NOT NULL UNIQUE, is_active bool NOT NULL, password varchar(128) NOT NULL);
      INSERT INTO accounts_user (id, password, username, is_superuser, is_staff, is_active, date_joined, nickname)
        SELECT id, password, username, is_superuser, is_staff, is_active, date_joined, 'x' FROM auth_user;
    `);
    db.close();
    expectManifest(sqlite, await readDrf(`sqlite:${path}`, { userTable: 'accounts_user' }));
    await expect(readDrf(`sqlite:${path}`, { userTable: 'members' })).rejects.toThrow(/has no table members .*--user-table/);
    await expect(readDrf(`sqlite:${path}`, { userTable: 'x; DROP TABLE y' })).rejects.toThrow(/is not a table name/);
  });

  it('refuses what is not a DRF project, saying why', async () => {
    const notJson = join(scratch, 'notes.txt');
    writeFileSync(notJson, 'hello');
    await expect(readDrf(notJson)).rejects.toThrow(/neither a SQLite database nor dumpdata JSON/);
    const object = join(scratch, 'object.json');
    writeFileSync(object, '{"model": "auth.user"}');
    await expect(readDrf(object)).rejects.toThrow(/not dumpdata output/);
    await expect(readDrf(join(scratch, 'missing.json'))).rejects.toThrow(/cannot read .*ENOENT/);
  });
});

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { algorithmOf, verifyPassword } from '../../../src/app/passwords/index.js';
import { makeDjangoProject, type DjangoProject } from '../../fixtures/django/project.js';

// Hashes real Django 3.2 wrote with each hasher it ships here, read from its SQLite database by
// column name, checked with the password the manifest says Django was given.
let project: DjangoProject;
let stored: Map<string, string>;
beforeAll(async () => {
  project = await makeDjangoProject({ engine: 'sqlite' });
  const db = new Database(project.sqlitePath!, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT * FROM auth_user').all() as { username: string; password: string }[];
    stored = new Map(rows.map((row) => [row.username, row.password]));
  } finally {
    db.close();
  }
});
afterAll(() => project?.cleanup());

describe('hashes made by real Django', () => {
  it('cover every hasher Django 3.2 ships here, PBKDF2 at two iteration counts', () => {
    const algorithms = project.manifest.users.map((user) => user.algorithm);
    for (const algorithm of ['pbkdf2_sha256', 'pbkdf2_sha1', 'argon2', 'bcrypt_sha256', 'bcrypt', 'md5', 'sha1', 'unsalted_md5', 'unsalted_sha1', 'crypt', null]) {
      expect(algorithms).toContain(algorithm);
    }
    const counts = new Set([...stored.values()].filter((hash) => hash.startsWith('pbkdf2_sha256$')).map((hash) => hash.split('$')[1]));
    expect(counts.size).toBeGreaterThanOrEqual(2);
    expect(stored.size).toBe(project.manifest.users.length);
  });

  it('each verifies with its password (and asks for a rehash), not with a wrong one or its NFKC form', async () => {
    const verifiable = project.manifest.users.filter((user) => user.algorithm !== null && user.algorithm !== 'crypt');
    expect(verifiable.length).toBeGreaterThanOrEqual(10);
    for (const user of verifiable) {
      const hash = stored.get(user.username)!;
      expect(algorithmOf(hash), user.username).toBe(user.algorithm);
      expect(await verifyPassword(user.password!, hash), user.username).toEqual({ ok: true, rehash: true });
      expect(await verifyPassword(`${user.password!}x`, hash), user.username).toEqual({ ok: false, rehash: false });
      expect(user.password!.normalize('NFKC')).not.toBe(user.password);
      expect((await verifyPassword(user.password!.normalize('NFKC'), hash)).ok, user.username).toBe(false);
    }
  });

  it('an unusable password and a crypt hash never verify, even with the password Django was given', async () => {
    for (const user of project.manifest.users.filter((u) => u.algorithm === null || u.algorithm === 'crypt')) {
      const hash = stored.get(user.username)!;
      expect(algorithmOf(hash), user.username).toBe(user.algorithm === null ? 'unusable' : 'unsupported');
      expect(await verifyPassword(user.password ?? '', hash), user.username).toEqual({ ok: false, rehash: false });
    }
  });
});

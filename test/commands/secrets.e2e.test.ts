import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/eventstore/open.js';
import { freshStore, keyOf, tl } from './cli.js';

describe('secrets at rest (SPEC §2)', () => {
  it('leaves no key and no password in the SQLite file or its WAL', async () => {
    const { url: store, path } = freshStore();
    // Held open so the CLI processes are never the last connection: SQLite then keeps the WAL
    // file instead of checkpointing it away on close, and the test can read it too.
    const holder = await openEventStore(store);
    try {
      await holder.headPosition();
      const passwords = ['wonderland-123', 'Looking-Glass-456', 'bob-secret-789'];
      expect((await tl(['user', 'create', 'alice', '--password-stdin'], { store, input: `${passwords[0]}\n` })).code).toBe(0);
      expect((await tl(['user', 'create', 'bob', '--staff'], { store, input: `${passwords[2]}\n` })).code).toBe(0);
      expect((await tl(['user', 'passwd', 'alice', '--password-stdin'], { store, input: `${passwords[1]}\n` })).code).toBe(0);

      const keys = [
        keyOf(await tl(['token', 'create', 'alice'], { store })),
        keyOf(await tl(['token', 'create', 'alice', '--reset'], { store })),
        keyOf(await tl(['token', 'create', 'alice', '--name', 'ci', '--format', 'drf', '--expires-in', '90d'], { store })),
        keyOf(await tl(['token', 'rotate', 'alice', '--name', 'ci', '--grace', '10m'], { store })),
        keyOf(await tl(['token', 'create', 'bob'], { store })),
        keyOf(await tl(['token', 'rotate', 'bob'], { store })),
      ];
      expect((await tl(['token', 'revoke', 'alice', '--name', 'ci', '--reason', 'test'], { store })).code).toBe(0);
      expect((await tl(['token', 'revoke', 'bob', '--all'], { store })).code).toBe(0);

      const files = [readFileSync(path), readFileSync(`${path}-wal`)];
      const bytes = Buffer.concat(files).toString('latin1');
      // The files are the ones written: the WAL holds the events, with key prefixes and sealed fields.
      expect(files[1]!.length).toBeGreaterThan(0);
      expect(bytes).toContain('sealed:v1:');
      // Usernames and password hashes are sealed (docs/privacy.md); their keys live in the vault file.
      expect(bytes).not.toContain('alice');
      expect(bytes).not.toContain('$argon2id$');
      for (const key of keys) expect(bytes).toContain(key.slice(0, 8));
      for (const key of keys) {
        expect(bytes).not.toContain(key);
        // The secret part alone (after the "tl_" prefix) is absent too.
        expect(bytes).not.toContain(key.slice(8));
      }
      for (const password of passwords) expect(bytes).not.toContain(password);
    } finally {
      await holder.close();
    }
  });
});

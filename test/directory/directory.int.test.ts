import { afterAll, describe, expect, it } from 'vitest';
import { openDirectoryStore } from '../../src/directory/open.js';
import type { DirectoryStore } from '../../src/directory/port.js';
import { DirectoryProjector } from '../../src/directory/projector.js';
import { pgSchemas } from '../eventstore/postgres-fixture.js';
import { tempLedger } from '../app/ledger-fixture.js';

const schemas = pgSchemas('dir');
afterAll(() => schemas.dropAll());

const MIN = 60_000;

const kinds: [string, () => string][] = [
  ['sqlite', () => 'sqlite::memory:'],
  ['postgres', () => schemas.url()],
];

describe.each(kinds)('directory on %s', (_name, url) => {
  it('lists, filters, pages; re-applying changes nothing; a rebuild equals the incremental result', async () => {
    const fixture = tempLedger();
    const { ledger, advance } = fixture;
    const directory: DirectoryStore = await openDirectoryStore(url());
    const projector = new DirectoryProjector(fixture.store, directory, { batchSize: 3 });
    try {
      await ledger.registerUser({ username: 'Alice', password: 'pw-alice-1', isStaff: true });
      await ledger.registerUser({ username: 'bob', password: null });
      await ledger.registerUser({ username: 'carol_x', password: null });
      await ledger.issueToken({ username: 'Alice', scopes: ['tokens:read'] });
      advance(MIN);
      await ledger.issueToken({ username: 'Alice', name: 'ci', expiresIn: '1h' });
      advance(MIN);
      await ledger.issueToken({ username: 'bob' });
      await ledger.rotateToken({ username: 'bob', grace: '10m' });
      await ledger.issueToken({ username: 'carol_x', name: 'old' });
      await ledger.revokeToken({ username: 'carol_x', name: 'old', reason: 'gone' });
      await ledger.deactivateUser('bob');
      await projector.catchUp();
      const now = fixture.now().toISOString();

      const users = await directory.listUsers({});
      expect(users.results.map((u) => [u.username, u.active, u.isStaff, u.tokens])).toEqual([
        ['Alice', true, true, 2],
        ['bob', false, false, 1],
        ['carol_x', true, false, 0],
      ]);
      expect((await directory.listUsers({ search: 'ALI' })).results.map((u) => u.username)).toEqual(['Alice']);
      expect((await directory.listUsers({ search: '_' })).results.map((u) => u.username)).toEqual(['carol_x']);
      expect((await directory.listUsers({ prefix: 'b' })).results.map((u) => u.username)).toEqual(['bob']);
      expect((await directory.listUsers({ active: false })).results.map((u) => u.username)).toEqual(['bob']);

      const page1 = await directory.listUsers({ limit: 2 });
      expect(page1.results.map((u) => u.username)).toEqual(['Alice', 'bob']);
      expect(page1.previous).toBeNull();
      const page2 = await directory.listUsers({ limit: 2, cursor: page1.next! });
      expect(page2.results.map((u) => u.username)).toEqual(['carol_x']);
      expect(page2.next).toBeNull();
      const back = await directory.listUsers({ limit: 2, cursor: page2.previous! });
      expect(back.results.map((u) => u.username)).toEqual(['Alice', 'bob']);
      expect(back.previous).toBeNull();

      const tokens = await directory.listTokens({ now });
      expect(tokens.results.map((t) => [t.username, t.name, t.status])).toEqual([
        ['Alice', 'default', 'live'],
        ['Alice', 'ci', 'live'],
        ['bob', 'default', 'grace'],
      ]);
      expect((await directory.listTokens({ now, status: 'revoked' })).results.map((t) => [t.name, t.revokedAt !== null])).toEqual([['old', true]]);
      expect((await directory.listTokens({ now, status: 'expiring', withinMs: 2 * 3_600_000 })).results.map((t) => t.name)).toEqual(['ci']);
      expect((await directory.listTokens({ now, scope: 'tokens:read' })).results.map((t) => t.name)).toEqual(['default']);
      expect((await directory.listTokens({ now, user: 'bob' })).results.map((t) => t.username)).toEqual(['bob']);
      const later = new Date(Date.parse(now) + 2 * 3_600_000).toISOString();
      expect((await directory.listTokens({ now: later, status: 'expired' })).results.map((t) => t.name)).toEqual(['ci']);
      expect(await directory.counts(now)).toEqual({
        users: { total: 3, active: 2, staff: 1 },
        tokens: { live: 3, grace: 1, expired: 0, revoked: 1, expiring: 1 },
      });

      await expect(directory.listUsers({ cursor: 'nope' })).rejects.toMatchObject({ field: 'cursor' });
      await expect(directory.listUsers({ cursor: page1.next!.slice(0, -2) })).rejects.toMatchObject({ field: 'cursor' });
      await expect(directory.listTokens({ now, cursor: page1.next! })).rejects.toMatchObject({ field: 'cursor' });
      await expect(directory.listUsers({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
      await expect(directory.listUsers({ limit: 10_000 })).rejects.toMatchObject({ field: 'limit' });
      await expect(directory.listTokens({ now, status: 'nope' as never })).rejects.toMatchObject({ field: 'status' });

      // Applying the whole log again changes nothing.
      const incremental = await directory.dump();
      await directory.apply(await fixture.store.readAll());
      expect(await directory.dump()).toEqual(incremental);
      // A batch read after a position the directory has not reached is refused.
      await expect(directory.apply(await fixture.store.readAll(), incremental.checkpoint + 5n)).rejects.toThrow(/behind/);
      await projector.rebuild();
      expect(await directory.dump()).toEqual(incremental);
      expect(incremental.digests.length).toBe(5);

      // Erasure's UserDeleted: the user's rows leave the directory (no username kept), the digest
      // history keeps digest -> stream id only.
      const bobDigests = incremental.digests.filter((d) => d.streamId === 'user-bob');
      await directory.apply([
        { streamId: 'user-bob', revision: 99n, position: incremental.checkpoint + 1n, type: 'UserDeleted', data: { at: now }, metadata: {} },
      ]);
      const erased = await directory.dump();
      expect(erased.users.map((u) => u.username)).toEqual(['Alice', 'carol_x']);
      expect(erased.tokens.filter((t) => t.streamId === 'user-bob')).toEqual([]);
      expect(JSON.stringify({ ...erased, checkpoint: 0 })).not.toContain('"bob"');
      expect(erased.digests.filter((d) => d.streamId === 'user-bob')).toEqual(bobDigests);
      expect((await directory.counts(now)).users).toEqual({ total: 2, active: 2, staff: 1 });
    } finally {
      await directory.close();
      await fixture.dispose();
    }
  });
});

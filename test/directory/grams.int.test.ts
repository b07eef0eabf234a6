import { describe, expect, it } from 'vitest';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';

let pos = 0;
const reg = (streamId: string, username: string): RecordedEvent => ({ streamId, revision: 0n, position: BigInt(++pos), type: 'UserRegistered', data: { userId: 'id-' + username, username, isStaff: false, isSuperuser: false, passwordHash: null, at: '2030-01-01T00:00:00.000Z' }, metadata: { at: '2030-01-01T00:00:00.000Z' } });
const del = (streamId: string): RecordedEvent => ({ streamId, revision: 0n, position: BigInt(++pos), type: 'UserDeleted', data: { at: '2030-01-01T00:00:00.000Z' }, metadata: { at: '2030-01-01T00:00:00.000Z' } });

describe('user_grams kept by the projector: incremental equals rebuild, nothing left after erasure', () => {
  it('renames on a stream, case changes, 1-2 character names, erasures', async () => {
    const log: RecordedEvent[] = [
      reg('user-x', 'Alice'), reg('user-x', 'alice'), reg('user-x', 'ALICE.bob'), reg('user-y', 'a'), reg('user-z', 'ab'), reg('user-w', 'Ab'),
      reg('user-v', 'abc'), reg('user-v', 'abc'),
    ];
    const tail: RecordedEvent[] = [del('user-x'), del('user-y'), del('user-z'), reg('user-x', 'Zed'), del('user-v'), del('user-x')];
    for (const split of [1, 3, log.length + tail.length]) {
      const all = [...log, ...tail];
      const inc = new SqliteDirectory(':memory:');
      for (let i = 0; i < all.length; i += split) await inc.apply(all.slice(i, i + split));
      const reb = new SqliteDirectory(':memory:');
      await reb.rebuild((async function* () { yield all; })());
      const a = await inc.dump(), b = await reb.dump();
      expect(a.userGrams).toEqual(b.userGrams);
      expect(a.userGrams.map((g) => g.streamId)).toEqual(['user-w']);
      // rebuild first, then erase incrementally
      const r2 = new SqliteDirectory(':memory:');
      await r2.rebuild((async function* () { yield log; })());
      await r2.apply(tail);
      expect((await r2.dump()).userGrams).toEqual(b.userGrams);
    }
  });
});

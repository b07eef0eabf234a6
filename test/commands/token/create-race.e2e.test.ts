import { describe, expect, it } from 'vitest';
import { openLog, resolveUser } from '../../../src/eventstore/vault/index.js';
import { freshStore, tl } from '../cli.js';

describe('racing `token create bob` processes (SPEC §6)', () => {
  it('yield exactly one token: one exit 0, the others exit 1 with the exists message', async () => {
    const { url: store } = freshStore();
    expect((await tl(['user', 'create', 'bob', '--no-password'], { store })).code).toBe(0);

    const runs = await Promise.all(Array.from({ length: 20 }, () => tl(['token', 'create', 'bob'], { store })));

    const winners = runs.filter((run) => run.code === 0);
    const losers = runs.filter((run) => run.code !== 0);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.stdout).toMatch(/^Generated token tl_\S+ for user bob\n$/);
    expect(losers).toHaveLength(19);
    for (const run of losers) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^Token "default" of user bob already exists \(created .+, key tl_\S+…\).*--reset/);
    }

    const events = await openLog({ store }).then(async (eventStore) => {
      try {
        return (await resolveUser(eventStore, 'bob')).history;
      } finally {
        await eventStore.close();
      }
    });
    const issued = events.filter((event) => event.type === 'TokenIssued' && (event.data as { name: string }).name === 'default');
    expect(issued).toHaveLength(1);
    expect(events.map((event) => event.type)).toEqual(['UserRegistered', 'TokenIssued']);
  }, 240_000); // 20 node processes at once on 2 cores
});

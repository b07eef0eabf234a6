import fc from 'fast-check';
import { expect, it } from 'vitest';
import { defaultDeps, operator } from '../../src/app/context.js';
import { Ledger } from '../../src/app/ledger.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';
import { ERASED, SealedLog, resolveUser } from '../../src/eventstore/vault/index.js';
import { MemoryVault } from '../../src/eventstore/vault/memory.js';
import { MemoryProjectionStore } from '../../src/projection/memory.js';
import { Projector } from '../../src/projection/projector.js';
import { rebuildProjection } from '../../src/projection/rebuild.js';

const NAMES = ['ann-p', 'bob-p', 'cy-p'];
const step = fc.record({ op: fc.constantFrom('register', 'issue', 'passwd', 'delete', 'deactivate'), user: fc.constantFrom(...NAMES) });

it('random histories with deletes: rebuild == incremental, erased users never open again, others untouched', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
      const log = new SealedLog(new SqliteEventStore(':memory:'), new MemoryVault());
      const live = new MemoryProjectionStore();
      const projector = new Projector(log, live);
      const ledger = new Ledger({ ...defaultDeps(log), afterAppend: async (p) => void (await projector.catchUp(p)) }, operator({ actor: 'op', channel: 'cli', source: 'h' }));
      const deleted = new Set<string>();
      try {
        for (const { op, user } of steps) {
          const run =
            op === 'register' ? ledger.registerUser({ username: user, password: null })
            : op === 'issue' ? ledger.issueToken({ username: user, name: `t${Math.random().toString(36).slice(2, 6)}`, description: `desc-of-${user}` })
            : op === 'passwd' ? ledger.setPassword(user, `pw-${user}`)
            : op === 'deactivate' ? ledger.deactivateUser(user)
            : ledger.deleteUser(user).then((r) => deleted.add(user));
          await run.catch((error: { code?: string }) => {
            if (!['user_not_found', 'user_exists', 'token_exists'].includes(error.code ?? '')) throw error;
          });
        }
        const rebuilt = new MemoryProjectionStore();
        await rebuildProjection(log, rebuilt);
        const [a, b] = [await live.dump(), await rebuilt.dump()];
        expect(b.records).toEqual(a.records);
        expect(b.docs).toEqual(a.docs);
        for (const name of NAMES) {
          const { history } = await resolveUser(log, name);
          const values = history.flatMap((e) => [...Object.values(e.data as object), e.metadata.source, e.subject]);
          if (deleted.has(name)) {
            expect(values).not.toContain(name);
            expect(values).not.toContain(`desc-of-${name}`);
            if (history.length > 0) expect(history[0]!.data).toMatchObject({ username: ERASED });
          } else if (history.length > 0) {
            expect(history[0]!.data).toMatchObject({ username: name });
            for (const e of history) if (e.type === 'TokenIssued') expect((e.data as { description: string }).description).toBe(`desc-of-${name}`);
          }
        }
      } finally {
        await log.close();
      }
    }),
    { numRuns: 40 },
  );
});

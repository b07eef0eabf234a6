import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDeps, operator, type Caller } from '../../src/app/context.js';
import { Ledger } from '../../src/app/ledger.js';
import { SqliteEventStore } from '../../src/eventstore/sqlite.js';

export const TEST_ACTOR: Caller = operator({ actor: 'tester', channel: 'cli', source: 'test-host' });

/** A ledger on its own SQLite temp file, with a clock the test moves by hand. */
export function tempLedger(start = Date.UTC(2030, 0, 1)) {
  const dir = mkdtempSync(join(tmpdir(), 'tl-app-'));
  const store = new SqliteEventStore(join(dir, 'events.db'));
  let nowMs = start;
  const ledger = new Ledger({ ...defaultDeps(store), clock: () => new Date(nowMs) }, TEST_ACTOR);
  return {
    ledger,
    store,
    dir,
    now: () => new Date(nowMs),
    /** Moves the clock forward by `ms`, returning the new time. */
    advance(ms: number): Date {
      nowMs += ms;
      return new Date(nowMs);
    },
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

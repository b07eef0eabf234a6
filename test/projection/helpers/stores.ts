import type { StoredRecord } from '../../../projections/token-records.js';
import { foldLog } from '../../helpers/fold-log.js';
import { recordOf } from '../../../src/domain/record.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { MemoryProjectionStore } from '../../../src/projection/memory.js';
import type { ProjectionDump, ProjectionStore } from '../../../src/projection/port.js';
import { deleteKeys, openRedisStore, rawRedis, uniquePrefix } from './redis.js';

/** How a test gets fresh, isolated projection stores of one kind. */
export interface StoreKind {
  name: 'memory' | 'redis';
  create(): Promise<ProjectionStore>;
  /** Removes whatever the stores created (Redis keys). */
  cleanup(): Promise<void>;
}

export const memoryKind = (): StoreKind => ({
  name: 'memory',
  create: async () => new MemoryProjectionStore(),
  cleanup: async () => {},
});

export function redisKind(tag: string): StoreKind {
  const prefixes: string[] = [];
  return {
    name: 'redis',
    async create() {
      const prefix = uniquePrefix(tag);
      prefixes.push(prefix);
      return openRedisStore(prefix);
    },
    async cleanup() {
      const redis = rawRedis();
      for (const prefix of prefixes.splice(0)) await deleteKeys(redis, prefix);
      await redis.quit();
    },
  };
}

/** A dump as plain, comparable data (Maps sorted by key). */
export function comparable(dump: ProjectionDump) {
  const sorted = <T>(map: Map<string, T>) => Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));
  return { checkpoint: dump.checkpoint, docs: sorted(dump.docs), records: sorted(dump.records) };
}

/**
 * The records the domain's own fold of the log implies (projection == fold(log)): every live
 * secret of every user, the one in grace included, without the positions.
 */
export async function expectedRecords(events: EventStore): Promise<Record<string, Omit<StoredRecord, 'position'>>> {
  const expected: Record<string, Omit<StoredRecord, 'position'>> = {};
  for (const user of (await foldLog(events)).values()) {
    for (const token of Object.values(user.tokens)) {
      expected[token.digest] = recordOf(user, token, null);
      if (token.previous) expected[token.previous.digest] = recordOf(user, token, Date.parse(token.previous.graceUntil));
    }
  }
  return expected;
}

export function withoutPositions(records: Map<string, StoredRecord>): Record<string, Omit<StoredRecord, 'position'>> {
  return Object.fromEntries([...records].map(([digest, { position: _p, ...record }]) => [digest, record]));
}

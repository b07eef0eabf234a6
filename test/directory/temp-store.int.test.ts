import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';

const ev = (position: number, streamId: string, type: string, data: unknown): RecordedEvent => ({ streamId, revision: 0n, position: BigInt(position), type, data, metadata: { at: '2030-01-01T00:00:00.000Z' } });

describe('temp_store: statement journals in memory, files during a rebuild', () => {
  it('back to memory after a failed rebuild; a second rebuild meanwhile is refused and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-rev-'));
    const d = new SqliteDirectory(join(dir, 'd.db'));
    const db = (d as unknown as { db: { pragma(s: string, o?: unknown): unknown } }).db;
    const temp = () => db.pragma('temp_store', { simple: true });
    try {
      expect(temp()).toBe(2);
      await expect(d.rebuild((async function* () { yield [ev(1, 'user-a', 'UserRegistered', { userId: 'x', username: 'a', isStaff: false, isSuperuser: false, passwordHash: null, at: '2030-01-01T00:00:00.000Z' })]; throw new Error('boom'); })())).rejects.toThrow('boom');
      expect(temp()).toBe(2);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const first = d.rebuild((async function* () { await gate; yield [ev(1, 'user-a', 'UserRegistered', { userId: 'x', username: 'a', isStaff: false, isSuperuser: false, passwordHash: null, at: '2030-01-01T00:00:00.000Z' })]; })());
      await new Promise((r) => setTimeout(r, 10));
      expect(temp()).toBe(1);
      await expect(d.rebuild((async function* () {})())).rejects.toThrow(/rebuild is running/);
      expect(temp()).toBe(1);
      release();
      await first;
      expect(temp()).toBe(2);
      expect((await d.dump()).users.length).toBe(1);
    } finally {
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

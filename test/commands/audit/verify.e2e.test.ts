import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../../src/app/audit/verify.js';
import { defaultDeps, operator } from '../../../src/app/context.js';
import { Ledger } from '../../../src/app/ledger.js';
import { SqliteEventStore } from '../../../src/eventstore/sqlite.js';
import { freshStore, tl } from '../cli.js';

// Tampering through sqlite3, the command-line tool, as an operator with shell access to the
// file would do it.
function sqlite3(path: string, sql: string): string {
  return execFileSync('sqlite3', [path, sql], { encoding: 'utf8' });
}

let base: ReturnType<typeof freshStore>;
const copies: string[] = [];

/**
 * alice: UserRegistered, TokenIssued default, TokenIssued ci, TokenRotated default, TokenRevoked ci
 * (revisions 0-4); bob: UserRegistered, TokenIssued default. 7 events, interleaved.
 */
beforeAll(async () => {
  if (spawnSync('sqlite3', ['-version']).error) {
    throw new Error('the sqlite3 command-line tool is missing: install it with `apt-get update && apt-get install -y sqlite3`');
  }
  base = freshStore();
  const store = new SqliteEventStore(base.path);
  const ledger = new Ledger(defaultDeps(store), operator({ actor: 'ops', channel: 'cli', source: 'bastion' }));
  await ledger.registerUser({ username: 'alice', password: null });
  await ledger.registerUser({ username: 'bob', password: null });
  await ledger.issueToken({ username: 'alice' });
  await ledger.issueToken({ username: 'alice', name: 'ci' });
  await ledger.issueToken({ username: 'bob' });
  await ledger.rotateToken({ username: 'alice' });
  await ledger.revokeToken({ username: 'alice', name: 'ci' });
  await store.close();
});

afterAll(() => {
  for (const dir of [base.dir, ...copies]) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the untouched store, tampered with by `sql`. */
function tampered(sql?: string): string {
  const copy = freshStore();
  copies.push(copy.dir);
  copyFileSync(base.path, copy.path);
  if (sql) sqlite3(copy.path, sql);
  return copy.url;
}

const position = (url: string, stream: string, revision: number) =>
  Number(sqlite3(url.slice('sqlite:'.length), `SELECT position FROM events WHERE stream_id = '${stream}' AND revision = ${revision}`));

/** The head as `audit verify` prints it, computed in-process (one CLI start less per test). */
async function headOf(url: string): Promise<string> {
  const store = new SqliteEventStore(url.slice('sqlite:'.length));
  const { head } = await verifyLog(store);
  await store.close();
  return head;
}

describe('tokenledger audit verify', () => {
  it('the untouched store: exit 0 and one line with events, streams and head', async () => {
    const run = await tl(['audit', 'verify'], { store: tampered() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Log intact: 7 events in 2 streams checked, head 7:[0-9a-f]{64}\n$/);
  });

  it('--json: the result as one document', async () => {
    const run = await tl(['audit', 'verify', '--json'], { store: tampered() });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, events: 7, streams: 2, damage: [], head: expect.stringMatching(/^7:[0-9a-f]{64}$/) });
  });

  it('one byte of an event\'s data changed: exit 1, "data edited" at that stream, revision and position', async () => {
    // "named" → "namee" in alice's second event (revision 1, TokenIssued default).
    const store = tampered(`UPDATE events SET data = replace(data, '"kind":"named"', '"kind":"namee"') WHERE stream_id = 'user-alice' AND revision = 1`);
    const run = await tl(['audit', 'verify'], { store });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`data edited: stream user-alice, revision 1 (position ${position(store, 'user-alice', 1)}): its content no longer matches its hash\n`);
    expect(run.stderr).toMatch(/^Log damaged: 1 problem\(s\); 7 events in 2 streams checked/);
  });

  it('an event deleted in the middle of a stream: exit 1, "event missing" naming the revision', async () => {
    const store = tampered(`DELETE FROM events WHERE stream_id = 'user-alice' AND revision = 2`);
    const run = await tl(['audit', 'verify', '--json'], { store });
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ ok: false, events: 6, damageCount: 1 });
    expect(result.damage).toEqual([
      {
        kind: 'missing',
        streamId: 'user-alice',
        revision: 2,
        position: position(store, 'user-alice', 3),
        message: expect.stringMatching(/^event missing: stream user-alice, revision 2 missing \(revision 3 at position \d+ follows revision 1\)$/),
      },
    ]);
  });

  it('two events swapped: exit 1, "events reordered" naming both places', async () => {
    const store = tampered();
    const [first, second] = [position(store, 'user-alice', 1), position(store, 'user-alice', 2)];
    sqlite3(store.slice('sqlite:'.length), `UPDATE events SET position = -1 WHERE position = ${first};
      UPDATE events SET position = ${first} WHERE position = ${second};
      UPDATE events SET position = ${second} WHERE position = -1;`);
    const run = await tl(['audit', 'verify'], { store });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`events reordered: stream user-alice, revision 2 (position ${first}): comes before revision 1 (position ${second})\n`);
  });

  it('the tail truncated: the chains alone cannot tell, --expect-head with the earlier head does', async () => {
    const before = await headOf(tampered());
    const store = tampered('DELETE FROM events WHERE position > 5');
    expect((await tl(['audit', 'verify'], { store })).code).toBe(0);
    const run = await tl(['audit', 'verify', '--expect-head', before], { store });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('log truncated: the recorded head is at position 7, but the log now ends at position 5\n');
    const bare = await tl(['audit', 'verify', '--expect-head', before.split(':')[1]!], { store });
    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/^head mismatch: neither the log .* nor any prefix of it hashes to the recorded head/);
  });

  it('--expect-head of an earlier moment passes once the log has grown', async () => {
    const store = tampered();
    const head = await headOf(store);
    const later = new SqliteEventStore(store.slice('sqlite:'.length));
    await new Ledger(defaultDeps(later)).issueToken({ username: 'bob', name: 'later' });
    await later.close();
    const run = await tl(['audit', 'verify', '--expect-head', head], { store });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Log intact: 8 events in 2 streams checked, head 8:[0-9a-f]{64} \(recorded head found; the log grew since\)\n$/);
  });

  it('a malformed --expect-head is a usage error', async () => {
    const run = await tl(['audit', 'verify', '--expect-head', 'yesterday'], { store: tampered() });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/expect-head: "yesterday" is not a head/);
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { openLedger } from '../../src/app/ledger.js';
import { loadSettings } from '../../src/config.js';
import { spawnServe } from './process.js';

/**
 * M2 and L9 of the 2026-11-30 review: another process (a real `sqlite3` shell) holds the SQLite
 * write lock with BEGIN IMMEDIATE for 10 s. The server's event loop never waits for it: /healthz
 * and authenticated reads keep answering at once, a write answers 503 with Retry-After once its
 * bounded wait (TOKENLEDGER_WRITE_WAIT) is over, and /readyz reports the store that cannot write.
 * Once the lock is gone, writes and readiness come back by themselves.
 */
const dir = mkdtempSync(join(tmpdir(), 'tl-lock-'));
const path = join(dir, 'events.db');
const store = `sqlite:${path}`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  ms: number;
}

function send(url: string, method: string, key?: string, body?: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (key) headers.Authorization = `Token ${key}`;
    if (body) headers['Content-Type'] = 'application/json';
    // A connection per request: no keep-alive socket that the server may close while we reuse it.
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers, ms: performance.now() - started }));
    });
    // A stalled server shows as status 0 after 6 s rather than as a test timeout.
    req.setTimeout(6_000, () => req.destroy(new Error('no answer within 6 s')));
    req.on('error', (error) => resolve({ status: 0, body: String(error), headers: {}, ms: performance.now() - started }));
    req.end(body);
  });
}

/** True while some other connection holds the write lock of the log. */
function lockedByOther(): boolean {
  const db = new Database(path, { timeout: 0 });
  try {
    db.exec('BEGIN IMMEDIATE; ROLLBACK;');
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw error;
  } finally {
    db.close();
  }
}

/** A sqlite3 shell that takes the write lock and keeps it until `release()`. */
async function holdLock(): Promise<{ release(): Promise<void> }> {
  const shell = spawn('sqlite3', [path], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => shell.once('exit', () => resolve()));
  shell.stdin.write('BEGIN IMMEDIATE;\nINSERT INTO sqlite_sequence SELECT * FROM sqlite_sequence WHERE 0;\n');
  // The shell's stdout is block-buffered on a pipe, so ask SQLite itself when the lock is taken.
  for (let i = 0; !lockedByOther(); i++) {
    if (i > 200) throw new Error('the sqlite3 shell did not take the lock within 2 s');
    await pause(10);
  }
  return {
    async release() {
      shell.stdin.end('ROLLBACK;\n');
      await exited;
    },
  };
}

it('a sqlite3 shell holding BEGIN IMMEDIATE for 10 s stalls nothing but writes, which get 503 after a bounded wait', async () => {
  const ledger = await openLedger({ settings: { ...loadSettings({}, {}), store } });
  await ledger.registerUser({ username: 'alice', password: 'wonderland-123' });
  await ledger.registerUser({ username: 'staffer', password: 'staff-pass-123', isStaff: true });
  const alice = (await ledger.issueToken({ username: 'alice' })).key;
  const staff = (await ledger.issueToken({ username: 'staffer' })).key;
  await ledger.close();

  const serve = await spawnServe(dir, { TOKENLEDGER_STORE: store, TOKENLEDGER_LOGIN_THROTTLE: 'off', TOKENLEDGER_WRITE_WAIT: '2s' });
  try {
    const login = JSON.stringify({ username: 'alice', password: 'wonderland-123' });
    expect((await send(`${serve.url}/api-token-auth/`, 'POST', undefined, login)).status).toBe(200);
    expect((await send(`${serve.url}/readyz`, 'GET')).status).toBe(200);

    const lock = await holdLock();
    const held = performance.now();
    // Writes during the hold: each waits at most TOKENLEDGER_WRITE_WAIT (2 s), then 503.
    const writes = [
      send(`${serve.url}/api-token-auth/`, 'POST', undefined, login),
      send(`${serve.url}/api/tokens/`, 'POST', staff, JSON.stringify({ username: 'alice', name: 'during-lock' })),
    ];
    const probes: Answer[] = [];
    let readyDuringHold: Answer | undefined;
    while (performance.now() - held < 9_500) {
      probes.push(await send(`${serve.url}/healthz`, 'GET'));
      probes.push(await send(`${serve.url}/api/whoami/`, 'GET', alice));
      probes.push(await send(`${serve.url}/api/users/`, 'GET', staff));
      if (performance.now() - held > 4_000 && readyDuringHold === undefined) readyDuringHold = await send(`${serve.url}/readyz`, 'GET');
      await pause(50);
    }
    const written = await Promise.all(writes);
    await lock.release();

    for (const probe of probes) expect(probe.status).toBe(200);
    const times = probes.map((p) => p.ms).sort((a, b) => a - b);
    const p90 = times[Math.floor(times.length * 0.9)]!;
    console.log(`${probes.length} reads during the 10 s hold: median ${times[times.length >> 1]!.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`);
    // Under 50 ms as the issue asks; the max gets slack for a loaded CI machine, far below a stalled loop's seconds.
    expect(p90).toBeLessThan(50);
    expect(times.at(-1)!).toBeLessThan(500);

    for (const write of written) {
      expect(write.status).toBe(503);
      expect(write.headers['retry-after']).toBeDefined();
      expect(write.ms).toBeGreaterThan(1_500);
      expect(write.ms).toBeLessThan(5_000);
    }
    // L9: readiness says the store cannot write.
    expect(readyDuringHold?.status).toBe(503);
    expect(JSON.parse(readyDuringHold!.body).detail).toMatch(/event store cannot write/);

    // The lock is gone: writes work again, and so readiness.
    expect((await send(`${serve.url}/api-token-auth/`, 'POST', undefined, login)).status).toBe(200);
    expect((await send(`${serve.url}/readyz`, 'GET')).status).toBe(200);
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
});

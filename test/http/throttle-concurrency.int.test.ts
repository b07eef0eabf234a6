import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordWork } from '../../src/app/passwords/index.js';
import { loadSettings } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { openBackends, type Backends } from '../../src/http/backends.js';
import { createLogger } from '../../src/http/logging.js';
import { startService, type Service } from './harness.js';

/**
 * The adversary of the login throttle: a burst of concurrent guesses, all sent before the first
 * one has been checked. A throttle that checks, verifies and only then records the failure lets
 * every one of them through (and the right password among them gets a token); one that reserves
 * the attempt before the check lets at most `limit` of them reach a password check.
 */
const LIMIT = 5;
const N = 120;

interface Reply {
  status: number;
  body: string;
}

/** A login from a given loopback address, on a connection of its own. */
function loginFrom(url: string, from: string, username: string, password: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const req = request(
      `${url}/api-token-auth/`,
      { method: 'POST', agent: false, localAddress: from, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function tally(replies: Reply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of replies) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe.each([false, true])('concurrent guesses against the login throttle (redis: %s)', (redis) => {
  let svc: Service;
  beforeAll(async () => {
    svc = await startService({ loginThrottle: { limit: LIMIT, windowMs: 60_000 } }, { redis });
    for (const username of ['bob', 'carol']) await svc.ledger.registerUser({ username, password: `Right-Pass-${username}` });
  });
  afterAll(async () => {
    await svc?.close();
  });

  async function burst(username: string, addressOf: (i: number) => string): Promise<{ wrong: Reply[]; right: Reply }> {
    const wrong = Array.from({ length: N }, (_, i) => loginFrom(svc.url, addressOf(i), username, `wrong-${i}`));
    const right = loginFrom(svc.url, addressOf(N), username, `Right-Pass-${username}`);
    return { wrong: await Promise.all(wrong), right: await right };
  }

  async function tokensOf(username: string): Promise<number> {
    return (await svc.ledger.listTokens({ user: username, limit: 500 })).results.length;
  }

  it(`${N} wrong passwords and the right one from one address: at most ${LIMIT} checks, no token`, async () => {
    const { wrong, right } = await burst('bob', () => '127.0.0.1');
    const counts = tally([...wrong, right]);
    // Every 400 is a password check that failed; every other answer was refused before any check.
    expect(counts[400] ?? 0).toBeGreaterThanOrEqual(1);
    expect(counts[400] ?? 0).toBeLessThanOrEqual(LIMIT);
    expect(counts[200] ?? 0).toBe(0);
    expect(right.status).toBe(429);
    expect((counts[400] ?? 0) + (counts[429] ?? 0)).toBe(N + 1);
    expect(await tokensOf('bob')).toBe(0);
  });

  it(`${N} wrong passwords and the right one from ${N + 1} addresses: the username's limit holds, no token`, async () => {
    const { wrong, right } = await burst('carol', (i) => `127.0.${1 + Math.floor((i + 2) / 250)}.${2 + ((i + 2) % 250)}`);
    const counts = tally([...wrong, right]);
    expect(counts[400] ?? 0).toBeGreaterThanOrEqual(1);
    expect(counts[400] ?? 0).toBeLessThanOrEqual(LIMIT);
    expect(counts[200] ?? 0).toBe(0);
    expect([429, 503]).toContain(right.status);
    expect(await tokensOf('carol')).toBe(0);
  });
});

describe('password checks in flight are capped per address and overall (throttle off)', () => {
  let backends: Backends;
  let server: Server;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'tl-work-'));

  beforeAll(async () => {
    const settings = { ...loadSettings({}, {}), store: `sqlite:${join(dir, 'events.db')}`, loginThrottle: null };
    const logger = createLogger(new Writable({ write: (_c, _e, done) => done() }));
    backends = await openBackends(settings, logger);
    const app = createApp({ ...backends, settings, logger, throttle: null, passwordWork: new PasswordWork({ overall: 3, perKey: 2 }) });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await backends.ledger.registerUser({ username: 'dave', password: 'Right-Pass-dave' });
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await backends.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a burst from one address beyond its 2 checks in flight gets 429 at once', async () => {
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => loginFrom(url, '127.0.0.1', 'dave', `wrong-${i}`)));
    const counts = tally(replies);
    expect(counts[400] ?? 0).toBeGreaterThanOrEqual(2);
    expect(counts[429] ?? 0).toBeGreaterThan(0);
    expect((counts[400] ?? 0) + (counts[429] ?? 0)).toBe(40);
    // Once the burst is over, the address may try again (the throttle is off: nothing was held against it).
    expect((await loginFrom(url, '127.0.0.1', 'dave', 'Right-Pass-dave')).status).toBe(200);
  });

  it('a burst from many addresses beyond the 3 checks in flight overall gets 503 at once', async () => {
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => loginFrom(url, `127.0.2.${2 + i}`, 'dave', `wrong-${i}`)));
    const counts = tally(replies);
    expect(counts[400] ?? 0).toBeGreaterThanOrEqual(3);
    expect(counts[503] ?? 0).toBeGreaterThan(0);
    expect((counts[400] ?? 0) + (counts[503] ?? 0)).toBe(40);
    expect(replies.find((r) => r.status === 503)!.body).toBe(JSON.stringify({ detail: 'Service temporarily unavailable, try again later.' }));
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/app/ledger.js';
import { loadSettings } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logging.js';
import { openProjection } from '../../src/projection/open.js';
import { call, loginKey, startService, type Service } from './harness.js';

describe('/healthz, /readyz, /metrics of a running service', () => {
  let svc: Service;
  beforeAll(async () => {
    svc = await startService();
    await svc.ledger.registerUser({ username: 'alice', password: 'pw-alice' });
  });
  afterAll(() => svc.close());

  it('healthz: alive; readyz: store and projection caught up', async () => {
    expect(await call(`${svc.url}/healthz`)).toMatchObject({ status: 200, json: { status: 'ok' } });
    const ready = await call(`${svc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', lag: 0 });
    expect(ready.json.checkpoint).toBe(ready.json.head);
  });

  it('metrics: authentication results, lookup latency, logins, lag; low-cardinality labels only', async () => {
    const key = await loginKey(svc.url, 'alice', 'pw-alice');
    await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'alice', password: 'nope' } });
    await call(`${svc.url}/api/whoami/`, { token: key });
    await call(`${svc.url}/api/whoami/`, { token: 'tl_madeUp' });
    await call(`${svc.url}/api/whoami/`);
    const text = (await call(`${svc.url}/metrics`)).text;
    expect(text).toMatch(/^tokenledger_authentications_total\{result="valid"\} 1$/m);
    expect(text).toMatch(/^tokenledger_authentications_total\{result="not_found"\} 1$/m);
    expect(text).toMatch(/^tokenledger_authentications_total\{result="none"\} 1$/m);
    expect(text).toMatch(/^tokenledger_logins_total\{result="success"\} 1$/m);
    expect(text).toMatch(/^tokenledger_logins_total\{result="failure"\} 1$/m);
    expect(text).toMatch(/^tokenledger_projection_lookup_seconds_count 1$/m);
    expect(text).toMatch(/^tokenledger_projection_lag_events 0$/m);
    expect(text).not.toContain(key);
    expect(text).not.toContain('alice');
    const labelValues = [...text.matchAll(/^tokenledger_(?:authentications|logins)_total\{result="([^"]+)"\}/gm)].map((m) => m[1]);
    for (const value of labelValues) expect(['valid', 'none', 'no_credentials', 'spaces', 'invalid_characters', 'not_found', 'expired', 'inactive', 'forbidden', 'unavailable', 'success', 'failure', 'throttled', 'busy', 'invalid', 'error']).toContain(value);
  });

  it('logs one line per request, without the Authorization header or the query string', async () => {
    const before = svc.logs.length;
    await call(`${svc.url}/api/whoami/?key=secret-in-query`, { token: 'tl_notAKey' });
    const lines = svc.logs.slice(before).map((line) => JSON.parse(line));
    const request = lines.filter((line) => line.msg === 'request');
    expect(request).toHaveLength(1);
    expect(request[0]).toMatchObject({ method: 'GET', path: '/api/whoami/', status: 401, ip: '127.0.0.1' });
    expect(JSON.stringify(lines)).not.toMatch(/secret-in-query|tl_notAKey/);
  });
});

describe('/readyz refuses with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-ready-'));
  const settings = { ...loadSettings({}, {}), store: `sqlite:${join(dir, 'events.db')}`, loginThrottle: null };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function app(maxLag: number) {
    // A projection that is not following: the ledger appends, nobody applies.
    const runtime = await openProjection(settings);
    const ledger = await openLedger({ settings });
    const server: Server = createApp({ ledger, projection: runtime.store, settings, maxLag, logger: createLogger(new Writable({ write: (_c, _e, d) => d() })) }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      url,
      ledger,
      runtime,
      close: async () => {
        await new Promise((resolve) => server.close(resolve));
        await runtime.close();
        await ledger.close().catch(() => undefined);
      },
    };
  }

  it('503 while the projection trails the log by more than the allowed lag, 200 once caught up', async () => {
    const a = await app(1);
    try {
      await a.ledger.registerUser({ username: 'u1', password: null });
      await a.ledger.registerUser({ username: 'u2', password: null });
      const behind = await call(`${a.url}/readyz`);
      expect([behind.status, behind.json]).toEqual([503, { status: 'unavailable', detail: 'projection is 2 events behind the log' }]);
      await a.runtime.projector.catchUp();
      expect((await call(`${a.url}/readyz`)).status).toBe(200);
    } finally {
      await a.close();
    }
  });

  it('503 when the event store cannot be read', async () => {
    const a = await app(100);
    try {
      await a.ledger.store.close();
      const down = await call(`${a.url}/readyz`);
      expect([down.status, down.json]).toEqual([503, { status: 'unavailable', detail: 'event store unreachable' }]);
      expect((await call(`${a.url}/healthz`)).status).toBe(200);
    } finally {
      await a.close();
    }
  });
});

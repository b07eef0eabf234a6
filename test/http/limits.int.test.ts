import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, loginKey, startService, type Service } from './harness.js';

/**
 * L2, L4 and L5 of the 2026-11-30 review, over raw sockets where a client could not send the
 * request any other way: bodies over the 1 MiB limit (declared or chunked) get DRF's 413 with a
 * request id, an access-log line and a count in `tokenledger_http_requests_total`; a client that
 * goes away mid-body is logged too; the server closes slow-header and slow-body sockets; an
 * `X-Forwarded-For` value that is not an address is not believed.
 */
const MiB = 1024 * 1024;

interface Raw {
  /** Everything the server sent before it closed (or before `ms`). */
  text: string;
  status: number;
  closedAfterMs: number | null;
}

/** Writes `head` and then `body` in pieces (ignoring a server that stops reading), and collects the answer. */
function raw(url: string, head: string, body: Buffer[] = [], waitMs = 5_000, pieceDelayMs = 0): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(Number(port), hostname);
    let text = '';
    let closedAfterMs: number | null = null;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), closedAfterMs });
    };
    const timer = setTimeout(finish, waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      closedAfterMs = performance.now() - started;
      finish();
    });
    socket.on('connect', async () => {
      socket.write(head);
      for (const piece of body) {
        if (socket.destroyed) return;
        socket.write(piece);
        if (pieceDelayMs) await new Promise((r) => setTimeout(r, pieceDelayMs));
      }
    });
  });
}

/** `size` bytes of JSON-ish text as HTTP/1.1 chunks of 64 KiB, with the last chunk. */
function chunked(size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let sent = 0; sent < size; sent += 65_536) {
    const data = Buffer.alloc(Math.min(65_536, size - sent), 'x');
    pieces.push(Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from('0\r\n\r\n'));
  return pieces;
}

const requestLines = (svc: Service) =>
  svc.logs.map((line) => JSON.parse(line) as { msg?: string; status?: number; path?: string; ip?: string; id?: string }).filter((l) => l.msg === 'request');

async function counted(svc: Service, status: number): Promise<number> {
  const text = (await call(`${svc.url}/metrics`)).text;
  const match = new RegExp(`^tokenledger_http_requests_total\\{method="POST",status="${status}"\\} (\\d+)$`, 'm').exec(text);
  return Number(match?.[1] ?? 0);
}

describe('request limits', () => {
  let svc: Service;
  let staff: string;
  beforeAll(async () => {
    svc = await startService();
    await svc.ledger.registerUser({ username: 'staffer', password: 'staff-pass-123', isStaff: true });
    staff = await loginKey(svc.url, 'staffer', 'staff-pass-123');
  });
  afterAll(() => svc?.close());

  it('L2: a chunked body over 1 MiB gets 413 with a request id, a log line and a metric, on every route that reads a body', async () => {
    for (const [path, auth] of [
      ['/api-token-auth/', ''],
      ['/api/users/', `Authorization: Token ${staff}\r\n`],
    ] as const) {
      const before = await counted(svc, 413);
      const lines = requestLines(svc).length;
      const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n${auth}\r\n`;
      const answer = await raw(svc.url, head, chunked(MiB + 100_000));
      expect(answer.status).toBe(413);
      expect(answer.text).toMatch(/\r\ncontent-type: application\/json\r\n/i);
      expect(answer.text).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
      expect(answer.text).toContain('{"detail":"Request body is too large."}');
      // The server stops reading: the connection is closed rather than drained.
      expect(answer.text).toMatch(/\r\nconnection: close\r\n/i);
      const line = requestLines(svc).slice(lines).find((l) => l.path === path);
      expect(line).toMatchObject({ status: 413, ip: '127.0.0.1' });
      expect(await counted(svc, 413)).toBe(before + 1);
    }
  });

  it('L2: a declared Content-Length over 1 MiB gets the same 413 without the body being read', async () => {
    const head = `POST /api-token-auth/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 * MiB}\r\n\r\n`;
    const answer = await raw(svc.url, head, [Buffer.from('{"username":')]);
    expect(answer.status).toBe(413);
    expect(answer.text).toContain('{"detail":"Request body is too large."}');
  });

  it('L2: a client that goes away mid-body leaves a log line (and no 500)', async () => {
    const before = await counted(svc, 500);
    const lines = requestLines(svc).length;
    const head = `POST /api-token-auth/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"username":`;
    const { hostname, port } = new URL(svc.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(head);
        setTimeout(() => (socket.destroy(), resolve()), 100);
      });
    });
    for (let i = 0; i < 50 && requestLines(svc).length === lines; i++) await new Promise((r) => setTimeout(r, 20));
    expect(requestLines(svc).slice(lines).map((l) => l.status)).toEqual([400]);
    expect(await counted(svc, 500)).toBe(before);
  });
});

describe('L4: server timeouts', () => {
  let svc: Service;
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(() => svc?.close());

  it('are set: headers 10 s, whole request 30 s, keep-alive 5 s, checked every second', () => {
    const server = svc.server.http;
    expect(server.headersTimeout).toBe(10_000);
    expect(server.requestTimeout).toBe(30_000);
    expect(server.keepAliveTimeout).toBe(5_000);
  });

  it('close a socket that sends its headers one line at a time, 408 at the headers timeout', async () => {
    const lines = ['POST /api-token-auth/ HTTP/1.1\r\n', 'Host: x\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: y\r\n`)].map((l) => Buffer.from(l));
    const answer = await raw(svc.url, '', lines, 16_000, 500);
    expect(answer.closedAfterMs).not.toBeNull();
    expect(answer.closedAfterMs!).toBeGreaterThan(9_000);
    expect(answer.closedAfterMs!).toBeLessThan(13_000);
    expect(answer.status).toBe(408);
  }, 30_000);
});

describe('L5: X-Forwarded-For', () => {
  let svc: Service;
  beforeAll(async () => {
    svc = await startService({ trustedProxies: 1, loginThrottle: { limit: 3, windowMs: 60_000 } });
    await svc.ledger.registerUser({ username: 'alice', password: 'wonderland-123' });
  });
  afterAll(() => svc?.close());

  it('a value that is not an IP address is ignored: the socket address is logged, stored as source and throttled', async () => {
    const reply = await call(`${svc.url}/api-token-auth/`, {
      method: 'POST',
      json: { username: 'alice', password: 'wonderland-123' },
      headers: { 'X-Forwarded-For': '1.2.3.4, not-an-ip <script>' },
    });
    expect(reply.status).toBe(200);
    expect(requestLines(svc).at(-1)?.ip).toBe('127.0.0.1');
    const sources = (await svc.ledger.store.readAll()).map((e) => (e.metadata as { source?: string }).source);
    expect(sources.at(-1)).toBe('127.0.0.1');
    expect(sources).not.toContain('not-an-ip <script>');
    // Rotating junk values does not give each request an address of its own: the per-address count holds.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: `u${i}`, password: 'x' }, headers: { 'X-Forwarded-For': `junk-${i}` } });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([400, 400, 400, 429, 429, 429]);
    // A real address from the proxy is still believed (IPv4 and IPv6).
    for (const address of ['203.0.113.9', '2001:db8::1']) {
      await call(`${svc.url}/healthz`, { headers: { 'X-Forwarded-For': `9.9.9.9, ${address}` } });
      expect(requestLines(svc).at(-1)?.ip).toBe(address);
    }
  });
});

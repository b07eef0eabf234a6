import { checkResponse } from './contract.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { Ledger } from '../../src/app/ledger.js';
import { loadSettings, type Settings } from '../../src/config.js';
import { createLogger } from '../../src/http/logging.js';
import { serve, type RunningServer } from '../../src/http/serve.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

export interface Service {
  url: string;
  server: RunningServer;
  ledger: Ledger;
  settings: Settings;
  /** Every log line the service wrote, as text. */
  logs: string[];
  close(): Promise<void>;
}

/** Deletes every key under a test's own prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * The real service (`serve`), in process, on a free port, on its own SQLite temp file (and its own
 * Redis prefix with `redis: true`), logging into `logs`. The throttle is off unless a test sets it.
 */
export async function startService(overrides: Partial<Settings> = {}, options: { redis?: boolean } = {}): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-http-'));
  const prefix = `tltest:http:${randomUUID()}:`;
  const settings: Settings = {
    ...loadSettings({}, {}),
    store: `sqlite:${join(dir, 'events.db')}`,
    host: '127.0.0.1',
    port: 0,
    loginThrottle: null,
    ...(options.redis ? { redisUrl: REDIS_URL, redisPrefix: prefix } : {}),
    ...overrides,
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const server = await serve({ settings, logger: createLogger(sink), handleSignals: false });
  return {
    url: server.url,
    server,
    ledger: server.backends.ledger,
    settings,
    logs,
    async close() {
      await server.stop();
      if (options.redis) await dropPrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** One request; the body is sent as given (string, URLSearchParams, FormData) or as JSON. */
export async function call(url: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<Reply> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(init.json);
  }
  if (init.token !== undefined) headers.set('Authorization', `Token ${init.token}`);
  const response = await fetch(url, { ...init, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  // Every response the HTTP suite receives is checked against the OpenAPI document (contract.ts).
  checkResponse(init.method ?? 'GET', url, response.status, response.headers, text);
  return { status: response.status, headers: response.headers, text, json };
}

/** Logs `username` in with `password` (JSON) and returns the key. */
export async function loginKey(url: string, username: string, password: string): Promise<string> {
  const reply = await call(`${url}/api-token-auth/`, { method: 'POST', json: { username, password } });
  if (reply.status !== 200) throw new Error(`login of ${username} failed: ${reply.status} ${reply.text}`);
  return reply.json.token as string;
}

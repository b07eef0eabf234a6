import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/app/ledger.js';
import { loadSettings } from '../../src/config.js';
import type { RouteInfo } from '../../src/http/routing.js';
import { dropPrefix, REDIS_URL, startService } from './harness.js';
import { spawnServe, type ServeProcess } from './process.js';

/**
 * The fuzz suite (issue 16): random requests at every route of the app's own route table (a new
 * route is fuzzed without touching this file), against real `serve` processes on the memory
 * projection and on Redis. Methods, paths and their parameters, headers (keys good and bad,
 * content types, encodings, junk), bodies (JSON shaped like each route's input, any JSON, form,
 * multipart, bytes, chunked, over the limit) and, over raw sockets, requests no HTTP client would
 * send. Passing means: no response >= 500, no process that died, no error line in the log, and
 * both servers still healthy at the end.
 *
 * FUZZ_RUNS (requests generated, each sent to both servers; default 50,000, so 100,000 requests)
 * and FUZZ_SEED (printed by every run) replay a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 50_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = 24;
const dir = mkdtempSync(join(tmpdir(), 'tl-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USERS = ['alice', 'bob', 'carol'];
const FIELDS = ['username', 'password', 'name', 'scopes', 'expiresIn', 'isStaff', 'isSuperuser', 'reset', 'reason', 'description', 'grace', 'next', 'csrfmiddlewaretoken', 'user', 'since', 'until', 'type', 'limit', 'cursor', 'active', 'email'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

interface Keys {
  user: string[];
  staff: string;
  scoped: string;
  root: string;
  admin: { cookie: string; csrf: string } | null;
}

/** One request as the fuzzer means to send it. */
interface FuzzRequest {
  /** The route table entry it was made for ('raw' for raw socket requests). */
  route: string;
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer | null;
  /** Send without Content-Length (Transfer-Encoding: chunked, in pieces). */
  chunked: boolean;
  /** Bytes to write as they are, over a socket of its own. */
  raw: Buffer | null;
}

// ---- generators -------------------------------------------------------------------------------

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u0000', 'admin', 'a'.repeat(5_000), '../../etc/passwd', '%00', 'ﬃ', '\ud800', '<script>', "' OR 1=1 --", '1h', '-5m', '99999999999d', 'tokens:write', 'users:read', 'whoami:read') },
);

/** Percent-encodes like encodeURIComponent, but never throws (lone surrogates become U+FFFD). */
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...USERS, 'nobody', 'default', 'login', 'admin') },
  { weight: 3, arbitrary: text.map(pct) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%2F', '%00', '..', '.', '%2e%2e', '~', 'a'.repeat(3_000)) },
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom(...USERS) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** An object with the field names the routes read, and random values. */
const shaped = fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: text }), value, { maxKeys: 6 });

function multipart(fields: [string, string][], boundary: string): Buffer {
  const parts = fields.map(([name, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v}\r\n`);
  return Buffer.from(`${parts.join('')}--${boundary}--\r\n`);
}

const body: fc.Arbitrary<{ type: string | null; bytes: Buffer | null }> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ type: null, bytes: null }) },
  { weight: 6, arbitrary: shaped.map((o) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(o)) })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(v) ?? 'null') })) },
  { weight: 2, arbitrary: text.map((t) => ({ type: 'application/json', bytes: Buffer.from(t) })) },
  {
    weight: 2,
    arbitrary: shaped.map((o) => ({
      type: 'application/x-www-form-urlencoded',
      bytes: Buffer.from(new URLSearchParams(Object.entries(o).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')])).toString()),
    })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(shaped, fc.constantFrom('b0undary', 'x', '----WebKitFormBoundary7MA4YWxkTrZu0gW')).map(([o, b]) => ({
      type: `multipart/form-data; boundary=${b}`,
      bytes: multipart(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : String(JSON.stringify(v))]), b),
    })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((a) => ({ type: 'multipart/form-data; boundary=b0undary', bytes: Buffer.from(a) })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('text/plain', 'application/xml', 'application/json; charset=latin1', 'application/JSON', '', 'multipart/form-data', 'a/b/c', ';;;'), fc.uint8Array({ maxLength: 256 })).map(([type, a]) => ({ type, bytes: Buffer.from(a) })) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 20_000, 100_000, 1024 * 1024 - 20).map((n) => ({ type: 'application/json', bytes: Buffer.from(`{"username":"${'u'.repeat(n)}"}`) })) },
);

function authHeader(keys: Keys): fc.Arbitrary<string | null> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.constantFrom(...keys.user, keys.staff, keys.root, keys.scoped).map((k) => `Token ${k}`) },
    { weight: 1, arbitrary: fc.constantFrom(keys.staff, keys.root).map((k) => `Bearer ${k}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...keys.user), fc.integer({ min: 0, max: 40 }), fc.constantFrom('0', 'x', 'Z')).map(([k, i, c]) => `Token ${k.slice(0, i)}${c}${k.slice(i + 1)}`) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('Token', 'token', 'TOKEN', 'Basic', 'Token  ', ''), text).map(([w, t]) => `${w} ${t}`) },
    { weight: 1, arbitrary: fc.constantFrom('Token', 'Token ', 'Token a b', 'Token tl_', 'Token tl_x_y', `Token ${'a'.repeat(10_000)}`) },
  );
}

const junkHeader = fc.tuple(
  fc.oneof(fc.constantFrom('Accept', 'Accept-Encoding', 'Content-Encoding', 'Accept-Language', 'X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto', 'X-Request-Id', 'Origin', 'Referer', 'Cookie', 'Sec-Fetch-Site', 'If-None-Match', 'Range', 'Expect', 'Upgrade'), fc.constantFrom('X-Custom', 'x-a', 'Foo-Bar', 'X-Http-Method-Override', 'Forwarded', 'Content-Language', 'Te', 'Trailer')),
  fc.oneof(fc.constantFrom('gzip', 'deflate, br', '*/*', 'application/json', 'text/html', '1.2.3.4, junk', 'http://evil.example', 'tl_admin_session=x; csrftoken=y', 'bytes=0-1', 'cross-site', 'same-origin', 'h2c'), fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })),
);

/** Fills `:param`s of a route path, then maybe mangles the path (slash, query, case). */
function pathOf(route: string): fc.Arbitrary<string> {
  const params = route.match(/:[A-Za-z]+/g) ?? [];
  return fc
    .tuple(
      fc.array(segment, { minLength: params.length, maxLength: params.length }),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('username', 'next', 'page', 'limit', 'cursor', 'user', 'type', 'since', 'until', 'format', 'q'), text.map(pct), { maxKeys: 3 }).map((q) => `?${Object.entries(q).map(([k, v]) => `${k}=${v}`).join('&')}`) },
        { weight: 1, arbitrary: fc.constantFrom('?', '?&&=', '?a=%', '?username=alice&username=bob', '#frag') },
      ),
      fc.constantFrom('as-is', 'as-is', 'as-is', 'as-is', 'as-is', 'no-slash', 'double-slash', 'upper'),
    )
    .map(([values, query, mangle]) => {
      let i = 0;
      let path = route.replace(/:[A-Za-z]+/g, () => values[i++]!);
      if (mangle === 'no-slash') path = path.replace(/\/$/, '');
      if (mangle === 'double-slash') path = path.replace('/', '//');
      if (mangle === 'upper') path = path.toUpperCase();
      return path + query;
    });
}

/** Requests no well-behaved client sends: broken request lines, framing and headers. */
const rawRequest = fc
  .tuple(
    fc.constantFrom(
      'GET / HTTP/1.1',
      'GET /api/whoami/ HTTP/1.0',
      'POST /api-token-auth/ HTTP/1.1',
      'GET http://evil.example/api/whoami/ HTTP/1.1',
      'GET /api/users/%ff%fe/ HTTP/1.1',
      'FOO /api/users/ HTTP/1.1',
      'GET  /healthz HTTP/1.1',
      'GET /healthz HTTP/9.9',
      'GET /\u00e9/ HTTP/1.1',
      'GET /api/tokens/alice/\u0000/ HTTP/1.1',
      'POST /api/users/ HTTP/1.1',
    ),
    fc.constantFrom(
      'Host: x\r\n',
      '',
      'Host: x\r\nHost: y\r\n',
      'Host: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n',
      'Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n',
      'Host: x\r\nTransfer-Encoding: gzip, chunked\r\n',
      'Host: x\r\nContent-Length: -1\r\n',
      'Host: x\r\nContent-Length: abc\r\n',
      'Host: x\r\nX-Bad\u0001Header: 1\r\n',
      'Host: x\r\nAuthorization: Token a\r\nAuthorization: Token b\r\n',
      'Host: x\r\n Folded: header\r\n',
      'Host: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n',
    ),
    fc.constantFrom('', '{"username":"alice"}', 'zz\r\nnot hex\r\n0\r\n\r\n', '5\r\nhello\r\n0\r\n\r\n', '3\r\n{"a\r\n', '\r\n\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
  )
  .map(([line, headers, tail]) => Buffer.from(`${line}\r\n${headers}Connection: close\r\n\r\n${tail}`, 'latin1'));

/** Stands for the server's own origin in a generated header; `send` puts the real one in. */
const ORIGIN = '{origin}';

function requestArb(routes: RouteInfo[], keys: Keys): fc.Arbitrary<FuzzRequest> {
  // One arbitrary per route, made once (chain() would build them anew for every request).
  const perRoute = routes.map((r) =>
    fc
      .record({
        method: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...r.methods) }, { weight: 2, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'TRACE', 'get', 'M-SEARCH', 'PURGE') }),
        path: pathOf(r.path),
        auth: authHeader(keys),
        body,
        chunked: fc.boolean(),
        junk: fc.array(junkHeader, { maxLength: 4 }),
        admin: r.path.startsWith('/admin') && keys.admin ? fc.constantFrom('none', 'session', 'session+csrf', 'session+csrf') : fc.constant('none'),
      })
      .map(({ method, path, auth, body, chunked, junk, admin }): FuzzRequest => {
        const headers: [string, string][] = [...junk];
        if (auth !== null) headers.push(['Authorization', auth]);
        if (body.type !== null) headers.push(['Content-Type', body.type]);
        let bytes = body.bytes;
        if (admin !== 'none' && keys.admin) {
          headers.push(['Cookie', keys.admin.cookie], ['Origin', ORIGIN]);
          if (admin === 'session+csrf') {
            headers.push(['X-CSRFToken', keys.admin.csrf]);
            if (bytes === null || body.type === 'application/x-www-form-urlencoded') {
              bytes = Buffer.concat([bytes ?? Buffer.alloc(0), Buffer.from(`${bytes?.length ? '&' : ''}csrfmiddlewaretoken=${keys.admin.csrf}`)]);
              if (body.type === null) headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
            }
          }
        }
        return { route: r.path, method, path, headers, body: bytes, chunked: chunked && bytes !== null, raw: null };
      }),
  );
  const structured = fc.oneof(...perRoute);
  return fc.oneof(
    { weight: 978, arbitrary: structured },
    { weight: 20, arbitrary: rawRequest.map((raw): FuzzRequest => ({ route: 'raw', method: 'RAW', path: '', headers: [], body: null, chunked: false, raw })) },
    { weight: 2, arbitrary: fc.constantFrom('/api-token-auth/', '/api/users/', '/api/tokens/').map((path): FuzzRequest => ({ route: path, method: 'POST', path, headers: [['Content-Type', 'application/json']], body: Buffer.alloc(1024 * 1024 + 10, 'x'), chunked: true, raw: null })) },
  );
}

// ---- sending ----------------------------------------------------------------------------------

interface Outcome {
  status: number;
  /** Why there was no answer (status 0): the client's error code, or what the raw socket saw. */
  error?: string;
  /**
   * The request is not valid HTTP: Node's client refused its method, target or a header value (a
   * control character such as NUL), so it went raw. Like the generator's raw requests, the server
   * may close on it (Node's parser answers 400 and closes; the answer can be lost to the reset).
   */
  invalid?: true;
}

/**
 * Writes `bytes` over a socket of its own and reads the status line of the answer. A request the
 * generator made raw on purpose (broken framing) is half-closed after it, which ends a body cut
 * short; a well-formed request sent raw only because Node's client refused it (`halfClose`
 * false) is not: Node's server takes a client's FIN before the answer as the client leaving
 * (httpAllowHalfOpen is false), and drops a request whose answer needs a Redis round trip (the
 * raw fallback's missing answers were this, not the server). Such a request says
 * `Connection: close`, so the server closes the socket after its answer.
 */
function sendRaw(url: string, bytes: Buffer, halfClose: boolean): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    let settled = false;
    let code = '';
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve(status === 0 ? { status, error: error ?? (text ? 'raw: not an HTTP answer' : `raw: closed without an answer${code}`) } : { status });
    };
    const timer = setTimeout(() => done('raw: no answer in 20 s'), 20_000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    // Kept for the report: a reset or a refused connection says something else than a clean close.
    socket.on('error', (error: NodeJS.ErrnoException) => (code = ` (${error.code ?? error.message})`));
    socket.on('close', () => done());
    socket.on('connect', () => (halfClose ? socket.end(bytes) : socket.write(bytes)));
  });
}

/**
 * A well-formed request sent raw (Node's client refused only its framing), on a connection of its
 * own: asked again once if the first connection closed without a byte. Once in a full-suite run
 * on a loaded machine (clean clone, 2026-11-30, FUZZ_SEED=774385162) such a request got no answer
 * from the memory server; the same seed, and 2,000 sends of the same request, were all answered.
 * A server that drops it fails both tries; `retried` counts the second tries, printed by the run.
 */
async function sendRawAnswered(url: string, bytes: Buffer): Promise<Outcome> {
  const first = await sendRaw(url, bytes, false);
  if (first.status !== 0) return first;
  retried.push(`${url}: ${first.error}`);
  return sendRaw(url, bytes, false);
}
const retried: string[] = [];

/** The same request over a raw socket (for what Node's client refuses to send). */
function asRaw(req: FuzzRequest): Buffer {
  const head = [`${req.method} ${req.path || '/'} HTTP/1.1`, 'Host: fuzz', 'Connection: close', ...req.headers.map(([n, v]) => `${n}: ${v === ORIGIN ? 'http://fuzz' : v}`)];
  if (req.body) head.push(`Content-Length: ${req.body.length}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'), req.body ?? Buffer.alloc(0)]);
}

function send(url: string, agent: Agent, req: FuzzRequest): Promise<Outcome> {
  if (req.raw) return sendRaw(url, req.raw, true);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (!settled) (settled = true), resolve(outcome);
    };
    let client;
    try {
      const headers: Record<string, string | string[]> = {};
      for (const [name, raw] of req.headers) {
        const v = raw === ORIGIN ? url : raw;
        headers[name] = name in headers ? [headers[name]!, v].flat() : v;
      }
      if (req.body && !req.chunked) headers['Content-Length'] = String(req.body.length);
      // Said explicitly: on GET, HEAD, DELETE, OPTIONS (and TRACE, CONNECT) Node's client does not
      // chunk a body by default, it writes the bytes unframed, and the server rightly reads them
      // as the next request on the connection (a 400, a close, and a reset for whichever request
      // of the fuzz used that socket next).
      if (req.body && req.chunked) headers['Transfer-Encoding'] = 'chunked';
      client = request(`${url}${req.path}`, { method: req.method, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => finish({ status: res.statusCode! }));
        res.on('error', () => finish({ status: res.statusCode! }));
      });
    } catch {
      // Node's client refuses this method, path or header: not valid HTTP, which the server must cope with anyway.
      return void sendRaw(url, asRaw(req), false).then((outcome) => resolve({ ...outcome, invalid: true }));
    }
    client.setTimeout(20_000, () => client.destroy(new Error('no answer in 20 s')));
    client.on('error', (error) => finish({ status: 0, error: (error as NodeJS.ErrnoException).code ?? error.message }));
    try {
      if (req.body && req.chunked) {
        const half = req.body.length >> 1;
        client.write(req.body.subarray(0, half));
        client.end(req.body.subarray(half));
      } else {
        client.end(req.body ?? undefined);
      }
    } catch {
      // Node's client refuses to frame it so (a Trailer header on a body with a Content-Length:
      // trailers need chunked framing): send it raw.
      client.destroy();
      settled = true;
      return void sendRawAnswered(url, asRaw(req)).then(resolve);
    }
  });
}

function describeRequest(req: FuzzRequest): string {
  if (req.raw) return `RAW ${JSON.stringify(req.raw.toString('latin1').slice(0, 300))}`;
  return `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers).slice(0, 300)} body=${req.body ? JSON.stringify(req.body.toString('latin1').slice(0, 200)) : '-'}${req.chunked ? ' (chunked)' : ''}`;
}

// ---- the run ----------------------------------------------------------------------------------

interface Server {
  name: string;
  serve: ServeProcess;
  agent: Agent;
  died: string | null;
  failures: string[];
  statuses: Map<number, number>;
  /** Why requests got no answer at all (status 0), by error code. */
  errors: Map<string, number>;
  /** Well-formed requests (all but the generator's raw ones) that got no answer. */
  unanswered: string[];
}

/** Users and keys in a fresh log. */
async function prepareLog(store: string): Promise<Omit<Keys, 'admin'>> {
  const ledger = await openLedger({ settings: { ...loadSettings({}, {}), store } });
  for (const username of USERS) await ledger.registerUser({ username, password: `${username}-pass-123` });
  await ledger.registerUser({ username: 'staffer', password: 'staff-pass-123', isStaff: true });
  await ledger.registerUser({ username: 'root', password: 'root-pass-123', isStaff: true, isSuperuser: true });
  const user: string[] = [];
  for (const username of USERS) for (let i = 0; i < 8; i++) user.push((await ledger.issueToken({ username, name: `k${i}` })).key);
  const staff = (await ledger.issueToken({ username: 'staffer', name: 'staff' })).key;
  const scoped = (await ledger.issueToken({ username: 'staffer', name: 'scoped', scopes: ['users:read'] })).key;
  const root = (await ledger.issueToken({ username: 'root', name: 'root' })).key;
  await ledger.close();
  return { user, staff, scoped, root };
}

/** A signed-in admin console session for root (cookie and CSRF token), or null when the console is off. */
async function adminSession(url: string): Promise<Keys['admin']> {
  const form = await fetch(`${url}/admin/login/`);
  if (form.status !== 200) return null;
  const csrfCookie = /csrftoken=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')?.[1];
  const field = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrfCookie || !field) return null;
  const signIn = await fetch(`${url}/admin/login/`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `csrftoken=${csrfCookie}`, Origin: url },
    body: new URLSearchParams({ username: 'root', password: 'root-pass-123', csrfmiddlewaretoken: field, next: '/admin/' }).toString(),
  });
  const session = /tl_admin_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1];
  if (!session) return null;
  const cookie = `tl_admin_session=${session}`;
  const page = await (await fetch(`${url}/admin/users/add/`, { headers: { Cookie: cookie } })).text();
  const csrf = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page)?.[1];
  return csrf ? { cookie, csrf } : null;
}

/** The app's route table, from a real app built the way `serve` builds it. */
async function routeTable(): Promise<RouteInfo[]> {
  const svc = await startService();
  try {
    return svc.server.app.routeTable();
  } finally {
    await svc.close();
  }
}

describe('fuzz: random requests at every route', () => {
  let routes: RouteInfo[] = [];

  it('the route table lists every route (so a new one is fuzzed without touching this file)', async () => {
    routes = await routeTable();
    const paths = routes.map((r) => r.path);
    for (const path of ['/api-token-auth/', '/api/whoami/', '/api/users/:username/', '/api/tokens/:username/:name/rotate/', '/readyz', '/admin/']) expect(paths).toContain(path);
  });

  it(`${RUNS} requests, each to a server on the memory projection and one on Redis (one log): no answer >= 500, no crash, no error logged`, async () => {
    if (routes.length === 0) routes = await routeTable();
    const prefix = `tltest:fuzz:${randomUUID()}:`;
    const store = `sqlite:${join(dir, 'events.db')}`;
    const base = await prepareLog(store);
    const servers: Server[] = [];
    try {
      for (const [name, env] of [
        ['memory', { TOKENLEDGER_LOGIN_THROTTLE: 'off' }],
        ['redis', { TOKENLEDGER_REDIS_URL: REDIS_URL, TOKENLEDGER_REDIS_PREFIX: prefix }],
      ] as const) {
        // A lookup slower than 250 ms answers 503 by design (fail closed): on a loaded machine that is the
        // machine, not a bug, so the bound is raised here; what the fuzz looks for is what inputs do.
        const serve = await spawnServe(dir, { TOKENLEDGER_STORE: store, LOG_LEVEL: 'warn', TOKENLEDGER_LOOKUP_TIMEOUT: '10s', ...env });
        const server: Server = { name, serve, agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }), died: null, failures: [], statuses: new Map(), errors: new Map(), unanswered: [] };
        void serve.exited.then(({ code, signal }) => (server.died = `${name}: serve exited (${code ?? signal}) during the run`));
        servers.push(server);
      }
      const keys: Keys = { ...base, admin: await adminSession(servers[0]!.serve.url) };
      expect(keys.admin, 'the admin console signs root in').not.toBeNull();
      const arb = requestArb(routes, keys);
      const routed = new Map<string, number>();
      let sent = 0;
      const started = performance.now();
      const cpu0 = process.cpuUsage();
      const alive = () => servers.every((s) => s.died === null);
      // Generated in batches from one seeded stream: FUZZ_SEED replays the same requests.
      for (let b = 0; b * 2_000 < RUNS && alive(); b++) {
        const batch = fc.sample(arb, { numRuns: Math.min(2_000, RUNS - b * 2_000), seed: SEED + b });
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < batch.length && alive()) {
              const req = batch[next++]!;
              routed.set(req.route, (routed.get(req.route) ?? 0) + 1);
              await Promise.all(
                servers.map(async (server) => {
                  const outcome = await send(server.serve.url, server.agent, req);
                  sent += 1;
                  server.statuses.set(outcome.status, (server.statuses.get(outcome.status) ?? 0) + 1);
                  if (outcome.status === 0) {
                    const why = `${req.raw ? 'raw ' : outcome.invalid ? 'invalid ' : ''}${outcome.error ?? '?'}`;
                    server.errors.set(why, (server.errors.get(why) ?? 0) + 1);
                    if (!req.raw && !outcome.invalid) server.unanswered.push(`${server.name}: ${outcome.error} <- ${describeRequest(req)}`);
                  }
                  if (outcome.status >= 500) server.failures.push(`${server.name}: ${outcome.status} <- ${describeRequest(req)}`);
                }),
              );
            }
          }),
        );
      }
      const seconds = (performance.now() - started) / 1000;
      // CPU time (ms) of this process and of the servers: what the run costs on a machine nobody else uses.
      const cpuMs = (pid: number) => {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      };
      const own = process.cpuUsage(cpu0);
      console.log(`fuzz cpu: test process ${Math.round((own.user + own.system) / 1000)} ms, servers ${servers.map((s) => `${s.name} ${cpuMs(s.serve.child.pid!)} ms`).join(', ')}`);
      console.log(`fuzz: ${sent} requests (${RUNS} generated, each to both servers) in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), FUZZ_SEED=${SEED}`);
      if (retried.length > 0) console.log(`asked again after a raw connection closed without an answer: ${retried.length} (${retried.slice(0, 5).join('; ')})`);
      for (const server of servers) {
        console.log(`  ${server.name}: ${JSON.stringify(Object.fromEntries([...server.statuses].sort((a, c) => a[0] - c[0])))}; no answer: ${JSON.stringify(Object.fromEntries(server.errors))}`);
        if (server.failures.length > 0) console.log(server.serve.stdout.filter((line) => /"level":(40|50|60)/.test(line)).slice(0, 5).join('\n'));
        expect(server.died).toBeNull();
        expect(server.failures.slice(0, 20)).toEqual([]);
        // Every well-formed request is answered (the generator's raw ones may be closed on, not hang).
        if (server.unanswered.length > 0) console.log(server.unanswered.slice(0, 10).join('\n'));
        expect(server.unanswered.length, `${server.name}: requests without an answer`).toBe(0);
        expect(server.errors.get('raw raw: no answer in 20 s') ?? 0, `${server.name}: raw requests left hanging`).toBe(0);
        expect(server.errors.get('invalid raw: no answer in 20 s') ?? 0, `${server.name}: invalid requests left hanging`).toBe(0);
        expect(server.serve.stdout.filter((line) => /"level":(50|60)/.test(line)).slice(0, 5)).toEqual([]);
        expect(await fetch(`${server.serve.url}/healthz`).then((r) => r.status, () => 0)).toBe(200);
      }
      expect(sent).toBe(2 * RUNS);
      // Every route got its share (the generator reaches them all).
      for (const route of new Set(routes.map((r) => r.path))) expect(routed.get(route) ?? 0, route).toBeGreaterThan(0);
    } finally {
      for (const server of servers) {
        server.agent.destroy();
        server.serve.child.kill('SIGTERM');
        await server.serve.exited;
      }
      await dropPrefix(prefix);
    }
  }, 600_000);
});

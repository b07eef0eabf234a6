import { resolveUser } from '../../src/eventstore/vault/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, loginKey, startService, type Service } from './harness.js';

/** The obtain-token endpoint: every case's status and exact body (DRF's field order). */
let svc: Service;
let login: string;

beforeAll(async () => {
  svc = await startService();
  login = `${svc.url}/api-token-auth/`;
  await svc.ledger.registerUser({ username: 'alice', password: 'wonderland-123' });
  await svc.ledger.registerUser({ username: 'bob', password: 'builder-456' });
  await svc.ledger.registerUser({ username: 'mallory', password: 'inactive-789' });
  await svc.ledger.deactivateUser('mallory');
});
afterAll(() => svc.close());

const post = (init: RequestInit & { json?: unknown } = {}) => call(login, { method: 'POST', ...init });
const UNABLE = '{"non_field_errors":["Unable to log in with provided credentials."]}';

async function whoami(key: string) {
  return call(`${svc.url}/api/whoami/`, { token: key });
}

describe('POST /api-token-auth/ succeeds', () => {
  it('with JSON, answers {"token","expiry"} and the token works', async () => {
    const reply = await post({ json: { username: 'alice', password: 'wonderland-123' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(reply.json)).toEqual(['token', 'expiry']);
    expect(reply.json.token).toMatch(/^tl_[0-9A-Za-z]{36}$/);
    // Default TTL 10 h (SPEC §1).
    expect(Date.parse(reply.json.expiry) - Date.now()).toBeGreaterThan(10 * 3_600_000 - 60_000);
    expect(Date.parse(reply.json.expiry) - Date.now()).toBeLessThanOrEqual(10 * 3_600_000);
    const me = await whoami(reply.json.token);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ username: 'alice', token: { name: expect.stringMatching(/^login-/), expiry: reply.json.expiry, scopes: [] } });
  });

  it('with a urlencoded form', async () => {
    const reply = await post({ body: new URLSearchParams({ username: 'alice', password: 'wonderland-123' }) });
    expect(reply.status).toBe(200);
    expect((await whoami(reply.json.token)).json.username).toBe('alice');
  });

  it('with multipart/form-data', async () => {
    const form = new FormData();
    form.set('username', 'alice');
    form.set('password', 'wonderland-123');
    const reply = await post({ body: form });
    expect(reply.status).toBe(200);
    expect((await whoami(reply.json.token)).json.username).toBe('alice');
  });

  it('trims the username but not the password', async () => {
    expect((await post({ json: { username: '  alice\t', password: 'wonderland-123' } })).status).toBe(200);
    const padded = await post({ json: { username: 'alice', password: ' wonderland-123 ' } });
    expect([padded.status, padded.text]).toEqual([400, UNABLE]);
  });
});

describe('POST /api-token-auth/ refuses, exactly as DRF', () => {
  const cases: [string, RequestInit & { json?: unknown }, number, string][] = [
    ['{}', { json: {} }, 400, '{"username":["This field is required."],"password":["This field is required."]}'],
    ['an empty body', { body: '' }, 400, '{"username":["This field is required."],"password":["This field is required."]}'],
    ['an empty JSON body', { body: '', headers: { 'Content-Type': 'application/json' } }, 400, '{"username":["This field is required."],"password":["This field is required."]}'],
    ['only a username', { json: { username: 'alice' } }, 400, '{"password":["This field is required."]}'],
    ['a blank username', { json: { username: '', password: 'x' } }, 400, '{"username":["This field may not be blank."]}'],
    ['a blank password', { json: { username: 'alice', password: '' } }, 400, '{"password":["This field may not be blank."]}'],
    ['a password of spaces', { json: { username: 'alice', password: '   ' } }, 400, UNABLE],
    ['a null username', { json: { username: null, password: 'x' } }, 400, '{"username":["This field may not be null."]}'],
    ['a boolean username', { json: { username: true, password: 'x' } }, 400, '{"username":["Not a valid string."]}'],
    ['a wrong password', { json: { username: 'alice', password: 'wrong' } }, 400, UNABLE],
    ['an unknown user', { json: { username: 'nobody', password: 'wonderland-123' } }, 400, UNABLE],
    ['an inactive user with the right password', { json: { username: 'mallory', password: 'inactive-789' } }, 400, UNABLE],
    ['a list', { json: [1, 2] }, 400, '{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}'],
    ['a string', { json: 'alice' }, 400, '{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}'],
    ['a blank form field', { body: new URLSearchParams({ username: 'alice', password: '' }) }, 400, '{"password":["This field may not be blank."]}'],
    ['text/plain', { body: 'username=alice', headers: { 'Content-Type': 'text/plain' } }, 415, '{"detail":"Unsupported media type \\"text/plain\\" in request."}'],
  ];
  it.each(cases)('%s', async (_name, init, status, body) => {
    const reply = await post(init);
    expect(reply.text).toBe(body);
    expect(reply.status).toBe(status);
    expect(reply.headers.get('content-type')).toBe('application/json');
  });

  it('malformed JSON: 400 JSON parse error, without echoing the body', async () => {
    const reply = await post({ body: '{"username": "alice", "password": "hunter2"', headers: { 'Content-Type': 'application/json' } });
    expect(reply.status).toBe(400);
    expect(reply.json.detail).toMatch(/^JSON parse error - ./);
    const bad = await post({ body: 'password=hunter2', headers: { 'Content-Type': 'application/json' } });
    expect(bad.json.detail).toMatch(/^JSON parse error - /);
    expect(bad.text).not.toContain('hunter2');
  });

  it('GET: 405 naming the method, with Allow', async () => {
    const reply = await call(login);
    expect([reply.status, reply.text]).toEqual([405, '{"detail":"Method \\"GET\\" not allowed."}']);
    expect(reply.headers.get('allow')).toBe('POST, OPTIONS');
    const put = await call(login, { method: 'PUT', json: {} });
    expect([put.status, put.text]).toEqual([405, '{"detail":"Method \\"PUT\\" not allowed."}']);
  });
});

describe('Knox semantics', () => {
  it('two logins give two different tokens, both valid; logout kills only the presented one', async () => {
    const first = await loginKey(svc.url, 'bob', 'builder-456');
    const second = await loginKey(svc.url, 'bob', 'builder-456');
    expect(first).not.toBe(second);
    expect((await whoami(first)).status).toBe(200);
    expect((await whoami(second)).status).toBe(200);
    const names = [(await whoami(first)).json.token.name, (await whoami(second)).json.token.name];
    expect(names[0]).not.toBe(names[1]);

    const out = await call(`${svc.url}/auth/logout/`, { method: 'POST', token: first });
    expect([out.status, out.text]).toEqual([204, '']);
    // Read-your-writes: dead for this server the moment the 204 arrived.
    const dead = await whoami(first);
    expect([dead.status, dead.text]).toEqual([401, '{"detail":"Invalid token."}']);
    expect((await whoami(second)).status).toBe(200);
  });

  it("logoutall kills all of that user's tokens and no one else's", async () => {
    const bobKeys = [await loginKey(svc.url, 'bob', 'builder-456'), await loginKey(svc.url, 'bob', 'builder-456')];
    const named = (await svc.ledger.issueToken({ username: 'bob', name: 'ci' })).key;
    const alice = await loginKey(svc.url, 'alice', 'wonderland-123');
    const out = await call(`${svc.url}/auth/logoutall/`, { method: 'POST', token: bobKeys[0] });
    expect(out.status).toBe(204);
    for (const key of [...bobKeys, named]) expect((await whoami(key)).status).toBe(401);
    expect((await whoami(alice)).status).toBe(200);
  });

  it('logout needs a token: 401 without one, 405 for GET', async () => {
    const anonymous = await call(`${svc.url}/auth/logout/`, { method: 'POST' });
    expect([anonymous.status, anonymous.text]).toEqual([401, '{"detail":"Authentication credentials were not provided."}']);
    const key = await loginKey(svc.url, 'alice', 'wonderland-123');
    const get = await call(`${svc.url}/auth/logout/`, { token: key });
    expect([get.status, get.text]).toEqual([405, '{"detail":"Method \\"GET\\" not allowed."}']);
  });

  it('records the login in the log: channel http, actor the user, source the client address', async () => {
    await loginKey(svc.url, 'alice', 'wonderland-123');
    const { history: events } = await resolveUser(svc.ledger.store, 'alice');
    const issued = events.filter((e) => e.type === 'TokenIssued').at(-1)!;
    expect(issued.metadata).toMatchObject({ channel: 'http', actor: 'alice', source: '127.0.0.1' });
    expect(issued.data).toMatchObject({ kind: 'login', name: expect.stringMatching(/^login-[0-9A-Za-z]{10}$/) });
  });
});

describe('login settings', () => {
  it('TOKENLEDGER_KEYWORD=Bearer: the service authenticates with that keyword', async () => {
    const other = await startService({ keyword: 'Bearer' });
    try {
      await other.ledger.registerUser({ username: 'dave', password: 'pw-dave' });
      const key = await loginKey(other.url, 'dave', 'pw-dave');
      const bearer = await call(`${other.url}/api/whoami/`, { headers: { Authorization: `Bearer ${key}` } });
      expect([bearer.status, bearer.json.username]).toEqual([200, 'dave']);
      const token = await call(`${other.url}/api/whoami/`, { token: key });
      expect([token.status, token.json, token.headers.get('www-authenticate')]).toEqual([401, { detail: 'Authentication credentials were not provided.' }, 'Bearer']);
    } finally {
      await other.close();
    }
  });

  it('TOKENLEDGER_LOGIN_RATE: a successful login over the user\'s rate is a DRF 429 with Retry-After, and no failure', async () => {
    const other = await startService({ loginRate: { limit: 2, windowMs: 60_000 }, loginThrottle: { limit: 1, windowMs: 60_000 } });
    try {
      await other.ledger.registerUser({ username: 'dave', password: 'pw-dave-123' });
      const attempt = () => call(`${other.url}/api-token-auth/`, { method: 'POST', json: { username: 'dave', password: 'pw-dave-123' } });
      expect([(await attempt()).status, (await attempt()).status]).toEqual([200, 200]);
      const refused = await attempt();
      expect(refused.status).toBe(429);
      expect(refused.json).toEqual({ detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds?\.$/) });
      const seconds = Number(refused.headers.get('retry-after'));
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(refused.json.detail).toContain(`in ${seconds} second`);
      // The right password is no failure: the guessing throttle (one failure allowed) does not count it.
      expect((await call(`${other.url}/api-token-auth/`, { method: 'POST', json: { username: 'dave', password: 'wrong' } })).status).toBe(400);
      expect((await call(`${other.url}/api-token-auth/`, { method: 'POST', json: { username: 'dave', password: 'wrong' } })).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it('TOKENLEDGER_LOGIN_TTL=0 gives tokens without expiry; TOKENLEDGER_LOGIN_LIMIT retires the oldest', async () => {
    const other = await startService({ loginTtlMs: 0, loginLimit: 2 });
    try {
      await other.ledger.registerUser({ username: 'carol', password: 'pw-carol' });
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await call(`${other.url}/api-token-auth/`, { method: 'POST', json: { username: 'carol', password: 'pw-carol' } }));
      expect(replies.map((r) => r.json.expiry)).toEqual([null, null, null]);
      const statuses = await Promise.all(replies.map(async (r) => (await call(`${other.url}/api/whoami/`, { token: r.json.token })).status));
      expect(statuses).toEqual([401, 200, 200]);
    } finally {
      await other.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, loginKey, startService, type Reply, type Service } from './harness.js';

/**
 * The staff API: a non-staff token gets 403 on every staff route; a created token's key
 * appears once, in the create response, and never in any later response, log line or metric.
 */
let svc: Service;
let admin: string;
let alice: string;
/** Every key this file ever saw, and every response body after it was issued. */
const keys = new Set<string>();
const later: string[] = [];

const api = async (path: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<Reply> => {
  const reply = await call(`${svc.url}${path}`, { token: admin, ...init });
  later.push(reply.text);
  return reply;
};

beforeAll(async () => {
  svc = await startService();
  await svc.ledger.registerUser({ username: 'admin', password: 'admin-pw-1', isStaff: true });
  await svc.ledger.registerUser({ username: 'alice', password: 'alice-pw-1' });
  admin = await loginKey(svc.url, 'admin', 'admin-pw-1');
  alice = (await svc.ledger.issueToken({ username: 'alice' })).key;
  keys.add(admin).add(alice);
});
afterAll(() => svc.close());

const STAFF_ROUTES: [string, string, unknown?][] = [
  ['GET', '/api/users/'],
  ['POST', '/api/users/', { username: 'eve', password: 'x' }],
  ['GET', '/api/users/alice/'],
  ['POST', '/api/users/alice/deactivate/'],
  ['POST', '/api/users/alice/activate/'],
  ['POST', '/api/users/alice/password/', { password: 'new-password' }],
  ['GET', '/api/tokens/'],
  ['POST', '/api/tokens/', { username: 'alice', name: 'stolen' }],
  ['GET', '/api/tokens/alice/'],
  ['DELETE', '/api/tokens/alice/'],
  ['GET', '/api/tokens/alice/default/'],
  ['DELETE', '/api/tokens/alice/default/'],
  ['POST', '/api/tokens/alice/default/rotate/', {}],
  ['GET', '/api/audit/'],
];

describe('permissions', () => {
  it('a non-staff token gets 403 on every staff route, and nothing changes', async () => {
    const head = await svc.ledger.store.headPosition();
    for (const [method, path, json] of STAFF_ROUTES) {
      const reply = await api(path, { method, json, token: alice });
      expect([method, path, reply.status, reply.text]).toEqual([method, path, 403, '{"detail":"You do not have permission to perform this action."}']);
    }
    expect(await svc.ledger.store.headPosition()).toBe(head);
  });

  it('no token: 401 on every staff route', async () => {
    for (const [method, path, json] of STAFF_ROUTES) {
      const reply = await call(`${svc.url}${path}`, { method, json });
      expect([path, reply.status, reply.json]).toEqual([path, 401, { detail: 'Authentication credentials were not provided.' }]);
    }
  });

  it('a scoped staff token may do what its scopes say', async () => {
    const reader = (await svc.ledger.issueToken({ username: 'admin', name: 'reader', scopes: ['users:read'] })).key;
    keys.add(reader);
    expect((await api('/api/users/', { token: reader })).status).toBe(200);
    expect((await api('/api/users/', { method: 'POST', token: reader, json: { username: 'eve' } })).status).toBe(403);
    expect((await api('/api/tokens/', { token: reader })).status).toBe(403);
  });
});

describe('users', () => {
  it('creates, lists, shows, deactivates and activates', async () => {
    const created = await api('/api/users/', { method: 'POST', json: { username: 'carol', password: 'carol-pw-1' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ username: 'carol', active: true, isStaff: false, hasPassword: true, tokens: 0 });
    // Lists answer in DRF's CursorPagination shape.
    const users = (await api('/api/users/')).json;
    expect([users.next, users.previous]).toEqual([null, null]);
    expect(users.results.map((u: { username: string }) => u.username)).toEqual(['admin', 'alice', 'carol']);
    expect((await api('/api/users/carol/')).json.username).toBe('carol');
    const carol = await loginKey(svc.url, 'carol', 'carol-pw-1');
    keys.add(carol);

    expect((await api('/api/users/carol/deactivate/', { method: 'POST' })).json.active).toBe(false);
    expect((await call(`${svc.url}/api/whoami/`, { token: carol })).json).toEqual({ detail: 'User inactive or deleted.' });
    expect((await api('/api/users/carol/activate/', { method: 'POST' })).json.active).toBe(true);
    expect((await call(`${svc.url}/api/whoami/`, { token: carol })).status).toBe(200);

    expect((await api('/api/users/carol/password/', { method: 'POST', json: { password: 'carol-pw-2' } })).status).toBe(200);
    expect((await loginKey(svc.url, 'carol', 'carol-pw-2').then((k) => (keys.add(k), 'ok')))).toBe('ok');
  });

  it('answers validation errors in DRF shape', async () => {
    const cases: [unknown, string][] = [
      [{}, '{"username":["This field is required."]}'],
      [{ username: 'carol' }, '{"username":["A user with that username already exists."]}'],
      [{ username: 'dave', isStaff: 'yes', password: '' }, '{"password":["This field may not be blank."],"isStaff":["Must be a valid boolean."]}'],
      [[1], '{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}'],
    ];
    for (const [json, body] of cases) {
      const reply = await api('/api/users/', { method: 'POST', json });
      expect([reply.status, reply.text]).toEqual([400, body]);
    }
    // The message is the application's (src/app/validation.ts), under the field's name.
    const invalid = await api('/api/users/', { method: 'POST', json: { username: 'no spaces' } });
    expect([invalid.status, Object.keys(invalid.json)]).toEqual([400, ['username']]);
    expect(invalid.json.username).toEqual([expect.stringMatching(/^Enter a valid username/)]);
    expect((await api('/api/users/nobody/')).json).toEqual({ detail: 'Not found.' });
    expect((await api('/api/users/nobody/deactivate/', { method: 'POST' })).status).toBe(404);
    const form = await api('/api/users/', { method: 'POST', body: 'username=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
  });
});

describe('tokens', () => {
  it('create shows the key once; list, rotate with grace, revoke', async () => {
    const created = await call(`${svc.url}/api/tokens/`, {
      method: 'POST',
      token: admin,
      json: { username: 'carol', name: 'ci', scopes: ['deploy'], expiresIn: '90d', description: 'CI' },
    });
    expect(created.status).toBe(201);
    const key = created.json.key as string;
    keys.add(key);
    expect(created.json.token).toMatchObject({ username: 'carol', name: 'ci', scopes: ['deploy'], keyPrefix: key.slice(0, 8) });
    expect((await call(`${svc.url}/api/whoami/`, { token: key })).json.token.name).toBe('ci');

    const again = await api('/api/tokens/', { method: 'POST', json: { username: 'carol', name: 'ci' } });
    expect(again.status).toBe(400);
    expect(Object.keys(again.json)).toEqual(['name']);
    expect((await api('/api/tokens/', { method: 'POST', json: { username: 'carol', expiresIn: 'soon' } })).json).toEqual({
      expiresIn: [expect.stringMatching(/^"soon" is not a duration/)],
    });
    expect((await api('/api/tokens/', { method: 'POST', json: { username: 'nobody' } })).status).toBe(404);

    const listed = await api('/api/tokens/?username=carol');
    expect(listed.json.results.map((t: { name: string }) => t.name).sort()).toContain('ci');
    expect((await api('/api/tokens/carol/ci/')).json.description).toBe('CI');

    const rotated = await api('/api/tokens/carol/ci/rotate/', { method: 'POST', json: { grace: '10m' } });
    later.pop(); // the rotate response is where the new key is shown, once
    expect(rotated.status).toBe(200);
    const next = rotated.json.key as string;
    keys.add(next);
    expect(rotated.json.token.graceUntil).not.toBeNull();
    expect((await call(`${svc.url}/api/whoami/`, { token: key })).status).toBe(200);
    expect((await call(`${svc.url}/api/whoami/`, { token: next })).status).toBe(200);

    const revoked = await api('/api/tokens/carol/ci/?reason=leaked', { method: 'DELETE' });
    expect(revoked.status).toBe(204);
    expect((await call(`${svc.url}/api/whoami/`, { token: next })).json).toEqual({ detail: 'Invalid token.' });
    expect((await call(`${svc.url}/api/whoami/`, { token: key })).json).toEqual({ detail: 'Invalid token.' });
    expect((await api('/api/tokens/carol/ci/', { method: 'DELETE' })).status).toBe(404);

    const all = await api('/api/tokens/carol/', { method: 'DELETE' });
    expect(all.status).toBe(204);
    expect((await api('/api/tokens/carol/')).json).toEqual({ next: null, previous: null, results: [] });
  });
});

describe('audit', () => {
  it('lists events with actor, channel and address; filters and pages', async () => {
    const carol = await api('/api/audit/?user=carol');
    expect(carol.status).toBe(200);
    const events = carol.json.results as Record<string, any>[];
    expect(events.every((e) => e.user === 'carol')).toBe(true);
    const http = events.filter((e) => e.metadata.channel === 'http' && e.metadata.actor === 'admin');
    expect(http.map((e) => e.type)).toEqual(expect.arrayContaining(['UserRegistered', 'UserDeactivated', 'TokenIssued', 'TokenRotated', 'TokenRevoked']));
    expect(http[0]!.metadata.source).toBe('127.0.0.1');
    expect(JSON.stringify(events)).not.toMatch(/\$argon2id\$/);

    const page1 = await api('/api/audit/?user=carol&limit=2');
    expect(page1.json.results).toHaveLength(2);
    const page2 = await call(page1.json.next, { token: admin });
    later.push(page2.text);
    expect(page2.json.results[0].position).toBeGreaterThan(page1.json.results[1].position);
    expect(page2.json.results[0]).toEqual(events[2]);

    const issued = await api('/api/audit/?type=TokenIssued,TokenRevoked');
    expect(new Set(issued.json.results.map((e: { type: string }) => e.type))).toEqual(new Set(['TokenIssued', 'TokenRevoked']));
    expect((await api('/api/audit/?since=2999-01-01T00:00:00Z')).json).toEqual({ next: null, results: [] });
    expect((await api('/api/audit/?limit=0')).status).toBe(400);
    expect((await api('/api/audit/?type=Nope')).json).toEqual({ type: [expect.stringContaining('unknown event type')] });
  });
});

describe('secrecy', () => {
  it('no key ever appears in a later response, a log line or /metrics', async () => {
    const metrics = await call(`${svc.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('tokenledger_authentications_total');
    const everything = [...later, metrics.text, ...svc.logs].join('\n');
    expect(keys.size).toBeGreaterThanOrEqual(6);
    for (const key of keys) expect(everything).not.toContain(key);
    for (const password of ['admin-pw-1', 'alice-pw-1', 'carol-pw-1', 'carol-pw-2']) expect(everything).not.toContain(password);
    expect(svc.logs.some((line) => line.includes('"path":"/api/tokens/"'))).toBe(true);
  });
});

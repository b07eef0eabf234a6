import { userEvents } from '../../src/app/audit/history.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Service } from '../http/harness.js';
import { STAFF_LOGIN_ERROR } from '../../src/admin/console.js';
import { consoleService, STAFF, Visitor } from './client.js';

let service: Service;
beforeAll(async () => {
  service = await consoleService();
});
afterAll(async () => {
  await service?.close();
});

const head = () => service.ledger.store.headPosition();

async function signedIn(): Promise<Visitor> {
  const visitor = new Visitor(service.url);
  const reply = await visitor.signIn(STAFF.username, STAFF.password);
  expect(reply.status).toBe(303);
  return visitor;
}

describe('the admin console over plain HTTP', () => {
  it('sends its security headers on every page: CSP without inline script, no framing, same-origin referrers, no-store', async () => {
    for (const path of ['/admin/login/', '/admin/', '/admin/nowhere/', '/admin/static/admin.css']) {
      const page = await new Visitor(service.url).get(path);
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('referrer-policy')).toBe('same-origin');
      if (!path.includes('static')) expect(page.headers.get('cache-control')).toBe('no-store');
    }
    const login = await new Visitor(service.url).get('/admin/login/');
    expect(login.html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(login.html).not.toMatch(/\son[a-z]+=/i);
  });

  it('signs staff in with a session cookie that is HttpOnly, SameSite=Strict, Path=/admin/ and not Secure over plain HTTP', async () => {
    const visitor = new Visitor(service.url);
    const reply = await visitor.signIn(STAFF.username, STAFF.password);
    expect(reply.status).toBe(303);
    expect(reply.location).toBe('/admin/');
    const cookie = visitor.setCookies.find((c) => c.startsWith('tl_admin_session=tl_'))!;
    expect(cookie).toMatch(/;\s*httponly/i);
    expect(cookie).toMatch(/;\s*samesite=strict/i);
    expect(cookie).toMatch(/;\s*path=\/admin\/(;|$)/i);
    expect(cookie).not.toMatch(/;\s*secure/i);
    const home = await visitor.get('/admin/');
    expect(home.status).toBe(200);
    expect(home.html).toContain('Signed in as <strong id="signed-in-as">sam</strong>');
  });

  it('the session is an ordinary token: named admin-session-…, issued on channel admin, listed by `token list`', async () => {
    const visitor = await signedIn();
    const sessionKey = visitor.cookies.get('tl_admin_session')!;
    const tokens = (await service.ledger.listTokens({ user: STAFF.username, limit: 500 })).results;
    expect(tokens.some((t) => t.name.startsWith('admin-session-') && sessionKey.startsWith(t.keyPrefix))).toBe(true);
    const events = await userEvents(service.ledger.store, 'sam');
    const issued = events.filter((e) => e.type === 'TokenIssued').at(-1)!;
    expect(issued.metadata).toMatchObject({ actor: 'sam', channel: 'admin', source: '127.0.0.1' });
    // The key itself opens the API as any token does: it is one.
    expect((await call(`${service.url}/api/whoami/`, { token: sessionKey })).status).toBe(200);
  });

  it('refuses non-staff, wrong passwords and unknown users with Django message, and issues nothing', async () => {
    const before = await head();
    for (const [username, password] of [
      ['pat', 'pat-plain-pass-1'],
      [STAFF.username, 'wrong'],
      ['nobody', 'whatever'],
    ] as const) {
      const visitor = new Visitor(service.url);
      const reply = await visitor.signIn(username, password);
      expect(reply.status).toBe(200);
      expect(reply.html).toContain(STAFF_LOGIN_ERROR.replace(/'/g, '&#39;'));
      expect(visitor.cookies.has('tl_admin_session')).toBe(false);
    }
    expect(await head()).toBe(before);
  });

  it('sign-out revokes the session token on channel admin: the old cookie no longer opens /admin/', async () => {
    const visitor = await signedIn();
    const key = visitor.cookies.get('tl_admin_session')!;
    const home = await visitor.get('/admin/');
    const out = await visitor.post('/admin/logout/', { csrfmiddlewaretoken: home.csrf() });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/admin/login/');
    expect(visitor.cookies.has('tl_admin_session')).toBe(false);
    const revoked = (await userEvents(service.ledger.store, 'sam')).at(-1)!;
    expect(revoked.type).toBe('TokenRevoked');
    expect(revoked.metadata).toMatchObject({ actor: 'sam', channel: 'admin' });
    const replay = new Visitor(service.url);
    replay.cookies.set('tl_admin_session', key);
    const again = await replay.get('/admin/');
    expect(again.status).toBe(303);
    expect(again.location).toMatch(/^\/admin\/login\/\?next=/);
    expect((await call(`${service.url}/api/whoami/`, { token: key })).status).toBe(401);
  });

  it('a session revoked elsewhere (CLI revoke, logoutall) ends on the next click', async () => {
    const viaCli = await signedIn();
    const name = (await service.ledger.listTokens({ user: STAFF.username, limit: 500 })).results.filter((t) => t.name.startsWith('admin-session-')).at(-1)!.name;
    expect((await viaCli.get('/admin/')).status).toBe(200);
    await service.ledger.revokeToken({ username: STAFF.username, name });
    expect((await viaCli.get('/admin/')).status).toBe(303);

    const viaLogoutAll = await signedIn();
    const apiKey = (await service.ledger.issueToken({ username: STAFF.username, name: 'api' })).key;
    expect((await call(`${service.url}/auth/logoutall/`, { method: 'POST', token: apiKey })).status).toBe(204);
    expect((await viaLogoutAll.get('/admin/')).status).toBe(303);
  });

  it('only the session token opens the console: an API key in the cookie does not', async () => {
    const { key } = await service.ledger.issueToken({ username: STAFF.username, name: 'not-a-session' });
    const visitor = new Visitor(service.url);
    visitor.cookies.set('tl_admin_session', key);
    expect((await visitor.get('/admin/')).status).toBe(303);
  });

  describe('a change (POST) is refused with 403 and changes nothing', () => {
    const add = { username: 'mallory-victim', usable_password: 'false' };

    it('without a CSRF token, with a wrong one, or with the pre-session cookie token', async () => {
      const visitor = await signedIn();
      const other = await signedIn();
      const othersToken = (await other.get('/admin/')).csrf();
      const before = await head();
      expect((await visitor.post('/admin/users/add/', add)).status).toBe(403);
      expect((await visitor.post('/admin/users/add/', { ...add, csrfmiddlewaretoken: 'x'.repeat(43) })).status).toBe(403);
      const refused = await visitor.post('/admin/users/add/', { ...add, csrfmiddlewaretoken: othersToken });
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('CSRF verification failed');
      expect(await head()).toBe(before);
    });

    it('from a foreign Origin, a cross-site fetch, or with neither Origin nor Sec-Fetch-Site', async () => {
      const visitor = await signedIn();
      const token = (await visitor.get('/admin/users/add/')).csrf();
      const before = await head();
      const body = { ...add, csrfmiddlewaretoken: token };
      expect((await visitor.post('/admin/users/add/', body, { Origin: 'http://evil.example' })).status).toBe(403);
      expect((await visitor.post('/admin/users/add/', body, { Origin: service.url.replace('127.0.0.1', 'localhost') })).status).toBe(403);
      expect((await visitor.post('/admin/users/add/', body, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
      const bare = new Visitor(service.url, null);
      for (const [k, v] of visitor.cookies) bare.cookies.set(k, v);
      expect((await bare.post('/admin/users/add/', body)).status).toBe(403);
      expect(await head()).toBe(before);
      // The same request, same-origin: accepted (so the refusals above are about the origin alone).
      expect((await bare.post('/admin/users/add/', body, { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(303);
      expect(await head()).toBeGreaterThan(before);
    });

    it('takes the token from the X-CSRFToken header too (Django name)', async () => {
      const visitor = await signedIn();
      const token = (await visitor.get('/admin/')).csrf();
      const reply = await visitor.post('/admin/users/add/', { username: 'via-header', usable_password: 'false' }, { 'X-CSRFToken': token });
      expect(reply.status).toBe(303);
    });

    it('a sign-in without the pre-session CSRF cookie, or from another origin', async () => {
      const before = await head();
      const visitor = new Visitor(service.url);
      const form = await visitor.get('/admin/login/');
      const fields = { csrfmiddlewaretoken: form.csrf(), username: STAFF.username, password: STAFF.password };
      expect((await visitor.post('/admin/login/', fields, { Origin: 'http://evil.example' })).status).toBe(403);
      const noCookie = new Visitor(service.url);
      expect((await noCookie.post('/admin/login/', fields)).status).toBe(403);
      expect(await head()).toBe(before);
    });
  });

  it('sends the browser only to console paths after sign-in', async () => {
    for (const next of ['//evil.example/', 'https://evil.example/', '/api/whoami/', '/admin/\\evil']) {
      const visitor = new Visitor(service.url);
      const reply = await visitor.submit('/admin/login/', { username: STAFF.username, password: STAFF.password, next });
      expect(reply.location).toBe('/admin/');
    }
  });

  it('never writes a session key, a password or a CSRF token into the log lines', async () => {
    const visitor = await signedIn();
    const key = visitor.cookies.get('tl_admin_session')!;
    const csrf = (await visitor.get('/admin/')).csrf();
    const text = service.logs.join('\n');
    expect(text).not.toContain(key);
    expect(text).not.toContain(STAFF.password);
    expect(text).not.toContain(csrf);
  });
});

describe('behind a trusted TLS proxy', () => {
  it('marks the session cookie Secure and checks Origin against the proxied https origin', async () => {
    const behind = await consoleService({ trustedProxies: 1 });
    try {
      const host = new URL(behind.url).host;
      const headers = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9' };
      const visitor = new Visitor(behind.url, `https://${host}`);
      const form = await visitor.get('/admin/login/', headers);
      const reply = await visitor.post('/admin/login/', { csrfmiddlewaretoken: form.csrf(), username: STAFF.username, password: STAFF.password }, headers);
      expect(reply.status).toBe(303);
      expect(visitor.setCookies.find((c) => c.startsWith('tl_admin_session=tl_'))).toMatch(/;\s*secure/i);
      const events = await userEvents(behind.ledger.store, 'sam');
      expect(events.at(-1)!.metadata).toMatchObject({ channel: 'admin', source: '203.0.113.9' });
    } finally {
      await behind.close();
    }
  });
});

describe('the login throttle', () => {
  it('counts console sign-in failures with POST /api-token-auth/ failures, per username', async () => {
    const throttled = await consoleService({ loginThrottle: { limit: 3, windowMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) expect((await new Visitor(throttled.url).signIn(STAFF.username, 'wrong')).status).toBe(200);
      const api = await call(`${throttled.url}/api-token-auth/`, { method: 'POST', json: STAFF });
      expect(api.status).toBe(429);
      const again = await new Visitor(throttled.url).signIn(STAFF.username, STAFF.password);
      expect(again.status).toBe(429);
      expect(again.html).toContain('Too many failed sign-ins');
    } finally {
      await throttled.close();
    }
  });
});

describe('the per-user login bounds', () => {
  it('TOKENLEDGER_LOGIN_RATE counts console sign-ins with API logins, and a refused sign-in appends nothing', async () => {
    const bounded = await consoleService({ loginRate: { limit: 3, windowMs: 60_000 } });
    try {
      for (let i = 0; i < 2; i++) expect((await new Visitor(bounded.url).signIn(STAFF.username, STAFF.password)).status).toBe(303);
      expect((await call(`${bounded.url}/api-token-auth/`, { method: 'POST', json: STAFF })).status).toBe(200);
      const before = await bounded.ledger.store.headPosition();
      const refused = await new Visitor(bounded.url).signIn(STAFF.username, STAFF.password);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.html).toContain('Too many sign-ins for this account');
      expect(refused.headers.getSetCookie().some((c) => c.startsWith('tl_admin_session=') && !/expires=Thu, 01 Jan 1970/i.test(c))).toBe(false);
      expect(await bounded.ledger.store.headPosition()).toBe(before);
      expect((await call(`${bounded.url}/api-token-auth/`, { method: 'POST', json: STAFF })).status).toBe(429);
    } finally {
      await bounded.close();
    }
  });

  it('TOKENLEDGER_LOGIN_LIMIT: a sign-in past the limit retires the oldest login token', async () => {
    const limited = await consoleService({ loginLimit: 2 });
    try {
      const first = await call(`${limited.url}/api-token-auth/`, { method: 'POST', json: STAFF });
      for (let i = 0; i < 2; i++) expect((await new Visitor(limited.url).signIn(STAFF.username, STAFF.password)).status).toBe(303);
      expect((await call(`${limited.url}/api/whoami/`, { token: (first.json as { token: string }).token })).status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe('TOKENLEDGER_ADMIN=off', () => {
  it('serves no console: /admin/ is the API 404', async () => {
    const off = await consoleService({ admin: false });
    try {
      const reply = await call(`${off.url}/admin/login/`);
      expect(reply.status).toBe(404);
      expect(reply.json).toEqual({ detail: 'Not found.' });
    } finally {
      await off.close();
    }
  });
});

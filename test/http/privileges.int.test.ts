import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startService, type Reply, type Service } from './harness.js';

/**
 * The adversaries of the privilege rules, over real HTTP: a staff token with narrow scopes that
 * tries to mint itself a wider one, a staff member who is not a superuser and reaches for the
 * superuser's account (or makes one), a narrowly scoped token that calls logoutall, and the old
 * secret of a rotated token, still in its grace period, that tries to revoke the new one.
 */
let svc: Service;
const keys: Record<string, string> = {};

const api = (path: string, token: string, init: RequestInit & { json?: unknown } = {}): Promise<Reply> =>
  call(`${svc.url}${path}`, { token, ...init });
const post = (path: string, token: string, json: unknown = {}) => api(path, token, { method: 'POST', json });
const denied = (reply: Reply) => [reply.status, typeof reply.json?.detail];
const whoami = async (key: string) => (await api('/api/whoami/', key)).status;

async function issue(username: string, name: string, scopes: string[] = []): Promise<string> {
  const { key } = await svc.ledger.issueToken({ username, name, scopes });
  keys[`${username}/${name}`] = key;
  return key;
}

beforeAll(async () => {
  svc = await startService();
  await svc.ledger.registerUser({ username: 'root', password: 'Root-Pass-123', isStaff: true, isSuperuser: true });
  await svc.ledger.registerUser({ username: 'staffer', password: 'Staff-Pass-123', isStaff: true });
  await svc.ledger.registerUser({ username: 'other', password: 'Other-Pass-123', isStaff: true });
  await svc.ledger.registerUser({ username: 'alice', password: 'Alice-Pass-123' });
  await issue('root', 'default');
  await issue('staffer', 'default');
  await issue('staffer', 'tw', ['tokens:write']);
  await issue('staffer', 'uw', ['users:write']);
  await issue('staffer', 'tw-ur', ['tokens:write', 'users:read']);
  await issue('other', 'default');
  await issue('alice', 'default');
  await issue('alice', 'narrow', ['whoami:read']);
});
afterAll(() => svc?.close());

describe('scopes: a caller issues only tokens whose scopes are a subset of its own', () => {
  it('a tokens:write token cannot issue an unscoped token, not even for its own user', async () => {
    const head = await svc.ledger.store.headPosition();
    const reply = await post('/api/tokens/', keys['staffer/tw']!, { username: 'staffer', name: 'escalated' });
    expect(denied(reply)).toEqual([403, 'string']);
    expect(reply.json.detail).toMatch(/scopes/);
    expect(await svc.ledger.store.headPosition()).toBe(head);
  });

  it('nor one with a scope it does not hold', async () => {
    const reply = await post('/api/tokens/', keys['staffer/tw']!, { username: 'alice', name: 'x', scopes: ['users:write'] });
    expect(denied(reply)).toEqual([403, 'string']);
  });

  it('but it may issue tokens within its scopes', async () => {
    const reply = await post('/api/tokens/', keys['staffer/tw-ur']!, { username: 'alice', name: 'sub', scopes: ['users:read'] });
    expect(reply.status).toBe(201);
    expect(reply.json.token.scopes).toEqual(['users:read']);
  });

  it('rotating a token hands out its scopes: a scoped caller cannot rotate a wider token', async () => {
    const reply = await post('/api/tokens/alice/default/rotate/', keys['staffer/tw']!);
    expect(denied(reply)).toEqual([403, 'string']);
    expect(await whoami(keys['alice/default']!)).toBe(200);
  });

  it('an unscoped staff token may issue unscoped tokens for an ordinary user', async () => {
    expect((await post('/api/tokens/', keys['staffer/default']!, { username: 'alice', name: 'by-staff' })).status).toBe(201);
  });
});

describe('only a superuser acts on superusers and other staff', () => {
  it('a staff member who is not a superuser cannot create a superuser or a staff user', async () => {
    for (const flags of [{ isSuperuser: true, isStaff: true }, { isSuperuser: true }, { isStaff: true }]) {
      const reply = await post('/api/users/', keys['staffer/default']!, { username: 'mallory', password: 'Mallory-Pass-1', ...flags });
      expect(denied(reply)).toEqual([403, 'string']);
    }
    expect((await api('/api/users/mallory/', keys['root/default']!)).status).toBe(404);
    // An ordinary user, yes.
    expect((await post('/api/users/', keys['staffer/uw']!, { username: 'mallory', password: 'Mallory-Pass-1' })).status).toBe(201);
  });

  it("cannot set a superuser's or another staff member's password", async () => {
    for (const target of ['root', 'other']) {
      const reply = await post(`/api/users/${target}/password/`, keys['staffer/uw']!, { password: 'Pwned-Pass-123' });
      expect(denied(reply)).toEqual([403, 'string']);
    }
    const login = await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username: 'root', password: 'Pwned-Pass-123' } });
    expect(login.status).toBe(400);
    // Its own password and an ordinary user's, yes.
    expect((await post('/api/users/staffer/password/', keys['staffer/uw']!, { password: 'Staff-Pass-456' })).status).toBe(200);
    expect((await post('/api/users/alice/password/', keys['staffer/uw']!, { password: 'Alice-Pass-456' })).status).toBe(200);
  });

  it('cannot issue or rotate a token for a superuser or another staff member, nor deactivate them', async () => {
    for (const target of ['root', 'other']) {
      expect(denied(await post('/api/tokens/', keys['staffer/default']!, { username: target, name: 'by-staff' }))).toEqual([403, 'string']);
      expect(denied(await post(`/api/tokens/${target}/default/rotate/`, keys['staffer/default']!))).toEqual([403, 'string']);
      expect(denied(await post(`/api/users/${target}/deactivate/`, keys['staffer/default']!))).toEqual([403, 'string']);
    }
    expect(await whoami(keys['root/default']!)).toBe(200);
    expect(await whoami(keys['other/default']!)).toBe(200);
  });

  it('a superuser may do all of it', async () => {
    const root = keys['root/default']!;
    expect((await post('/api/users/', root, { username: 'newstaff', password: 'New-Staff-123', isStaff: true })).status).toBe(201);
    expect((await post('/api/users/other/password/', root, { password: 'Other-Pass-456' })).status).toBe(200);
    expect((await post('/api/tokens/', root, { username: 'other', name: 'by-root' })).status).toBe(201);
  });
});

describe('logoutall', () => {
  it('a token scoped to something else cannot revoke every token of its user', async () => {
    const reply = await post('/auth/logoutall/', keys['alice/narrow']!);
    expect(denied(reply)).toEqual([403, 'string']);
    expect(await whoami(keys['alice/default']!)).toBe(200);
  });

  it('a token with the auth:logoutall scope can', async () => {
    await svc.ledger.registerUser({ username: 'bob', password: 'Bob-Pass-123' });
    const other = await issue('bob', 'default');
    const scoped = await issue('bob', 'ending', ['auth:logoutall']);
    expect((await post('/auth/logoutall/', scoped)).status).toBe(204);
    expect(await whoami(other)).toBe(401);
  });

  it('the old secret of a rotated token, in its grace period, revokes nothing: neither logoutall nor logout', async () => {
    await svc.ledger.registerUser({ username: 'carol', password: 'Carol-Pass-123' });
    const old = await issue('carol', 'default');
    const other = await issue('carol', 'laptop');
    const { key: fresh } = await svc.ledger.rotateToken({ username: 'carol', name: 'default', grace: '10m' });
    expect(await whoami(old)).toBe(200);
    expect(denied(await post('/auth/logoutall/', old))).toEqual([403, 'string']);
    expect(denied(await post('/auth/logout/', old))).toEqual([403, 'string']);
    expect(await whoami(fresh)).toBe(200);
    expect(await whoami(other)).toBe(200);
    // The current secret still logs out, and an unscoped one logs out everywhere.
    expect((await post('/auth/logoutall/', fresh)).status).toBe(204);
    expect(await whoami(other)).toBe(401);
  });
});

describe('the rules live in src/app: every channel gets them through ledger.as(caller)', () => {
  const staffCaller = {
    actor: 'staffer',
    channel: 'admin' as const,
    source: '192.0.2.1',
    username: 'staffer',
    isStaff: true,
    isSuperuser: false,
    scopes: null,
    inGrace: false,
  };

  it('a staff member who is not a superuser cannot change flags, promote, or act on the superuser', async () => {
    const ledger = svc.ledger.as(staffCaller);
    await expect(ledger.setUserFlags('alice', { isStaff: true })).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(ledger.setUserFlags('root', { isSuperuser: false })).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(ledger.deactivateUser('root')).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(ledger.registerUser({ username: 'sneaky', password: null, isSuperuser: true })).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(ledger.revokeToken({ username: 'root', all: true })).rejects.toMatchObject({ code: 'permission_denied' });
  });

  it('a non-staff caller cannot do staff work at all, and the CLI operator can do everything', async () => {
    const alice = svc.ledger.as({ ...staffCaller, actor: 'alice', username: 'alice', isStaff: false });
    await expect(alice.issueToken({ username: 'alice', name: 'more' })).rejects.toMatchObject({ code: 'permission_denied' });
    await expect(alice.setPassword('alice', 'Alice-Pass-789')).rejects.toMatchObject({ code: 'permission_denied' });
    // svc.ledger acts as the operator (the CLI's caller).
    expect((await svc.ledger.setUserFlags('alice', { isStaff: true })).isStaff).toBe(true);
    expect((await svc.ledger.setUserFlags('alice', { isStaff: false })).isStaff).toBe(false);
  });
});

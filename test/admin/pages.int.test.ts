import { userEvents } from '../../src/app/audit/history.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../src/app/audit/verify.js';
import { call, type Service } from '../http/harness.js';
import { consoleService, STAFF, Visitor } from './client.js';

let service: Service;
let staff: Visitor;
beforeAll(async () => {
  service = await consoleService();
  staff = new Visitor(service.url);
  expect((await staff.signIn(STAFF.username, STAFF.password)).status).toBe(303);
});
afterAll(async () => {
  await service?.close();
});

const stream = (username: string) => userEvents(service.ledger.store, username);
const keyOn = (html: string) => /<output id="new-key"[^>]*>([^<]+)<\/output>/.exec(html)?.[1]?.trim();

describe('console pages over plain HTTP', () => {
  it('add user: the CLI password messages, the duplicate message, or no usable password', async () => {
    const mismatch = await staff.submit('/admin/users/add/', { username: 'erin', password1: 'erin-pass-1', password2: 'erin-pass-2' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain('Your passwords didn&#39;t match.');
    const blank = await staff.submit('/admin/users/add/', { username: 'erin', password1: '  ', password2: '  ' });
    expect(blank.html).toContain('Blank passwords aren&#39;t allowed.');
    expect(await stream('erin')).toEqual([]);
    const made = await staff.submit('/admin/users/add/', { username: 'erin', usable_password: 'false' });
    expect(made.status).toBe(303);
    expect(made.location).toBe('/admin/users/erin/');
    const page = await staff.get('/admin/users/erin/');
    expect(page.html).toContain('The user “erin” was added successfully. You may edit it again below.');
    expect(page.html).toContain('no usable password');
    const again = await staff.submit('/admin/users/add/', { username: 'erin', usable_password: 'false' });
    expect(again.html).toContain('A user with that username already exists.');
  });

  it('every change is an event on channel admin with the staff actor, the client address and the request id', async () => {
    const reply = await staff.submit('/admin/users/add/', { username: 'fay', password1: 'fay-pass-123', password2: 'fay-pass-123' });
    const [registered] = await stream('fay');
    expect(registered!.metadata).toMatchObject({ actor: 'sam', channel: 'admin', source: '127.0.0.1', correlationId: reply.headers.get('x-request-id') });
    // Two switches in one click: two events, one correlation id.
    const both = await staff.submit('/admin/users/fay/', { is_staff: 'on', is_superuser: 'on' });
    expect(both.status).toBe(303);
    const changed = (await stream('fay')).slice(1);
    // The form left "active" unticked: deactivated, and staff and superuser set.
    expect(changed.length).toBe(2);
    expect(changed[0]!.type).toBe('UserDeactivated');
    expect(new Set(changed.map((e) => e.metadata.correlationId))).toEqual(new Set([both.headers.get('x-request-id')]));
  });

  it('superuser status only for superusers: the switch of a plain staff member is refused and changes nothing', async () => {
    await service.ledger.registerUser({ username: 'gus', password: 'gus-staff-pass', isStaff: true });
    const gus = new Visitor(service.url);
    await gus.signIn('gus', 'gus-staff-pass');
    const form = await gus.get('/admin/users/pat/');
    expect(form.html).toMatch(/name="is_superuser" value="on"[^>]* disabled/);
    const before = (await stream('pat')).length;
    const forged = await gus.post('/admin/users/pat/', { csrfmiddlewaretoken: form.csrf(), is_active: 'on', is_superuser: 'on' });
    expect(forged.status).toBe(403);
    expect(forged.html).toContain('Only a superuser may change superuser status.');
    expect((await stream('pat')).length).toBe(before);
  });

  it('password: set twice, or disable password-based authentication', async () => {
    const set = await staff.submit('/admin/users/erin/password/', { password1: 'erin-new-pass-5', password2: 'erin-new-pass-5', action: 'set' });
    expect(set.status).toBe(303);
    expect((await call(`${service.url}/api-token-auth/`, { method: 'POST', json: { username: 'erin', password: 'erin-new-pass-5' } })).status).toBe(200);
    const off = await staff.submit('/admin/users/erin/password/', { action: 'disable' });
    expect(off.status).toBe(303);
    expect((await staff.get('/admin/users/erin/')).html).toContain('Password-based authentication was disabled.');
    expect((await call(`${service.url}/api-token-auth/`, { method: 'POST', json: { username: 'erin', password: 'erin-new-pass-5' } })).status).toBe(400);
  });

  it('add token and rotate with grace: each key once, on the no-store answer to its POST', async () => {
    const created = await staff.submit('/admin/tokens/add/?user=erin', { user: 'erin', name: 'deploy', expires_in: '30d', scopes: 'users:read tokens:read', format: 'drf', description: 'deploys' }, '/admin/tokens/add/');
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const key = keyOn(created.html)!;
    expect(key).toMatch(/^[0-9a-f]{40}$/);
    const page = await staff.get('/admin/users/erin/');
    expect(page.html).not.toContain(key);
    expect(page.html).toContain('users:read tokens:read');

    const rotated = await staff.submit('/admin/users/erin/tokens/deploy/rotate/', { grace: '1h' });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const next = keyOn(rotated.html)!;
    expect(next).toMatch(/^[0-9a-f]{40}$/);
    expect(rotated.html).toContain('The previous key keeps working until');
    expect((await call(`${service.url}/api/whoami/`, { token: key })).status).toBe(200);
    expect((await call(`${service.url}/api/whoami/`, { token: next })).status).toBe(200);

    const duplicate = await staff.submit('/admin/tokens/add/?user=erin', { user: 'erin', name: 'deploy' }, '/admin/tokens/add/');
    expect(duplicate.status).toBe(400);
    expect(duplicate.html).toContain('This user already has a token with this name.');
    expect(keyOn(duplicate.html)).toBeUndefined();
  });

  it('revoke all of a user behind its confirmation page', async () => {
    const { key } = await service.ledger.issueToken({ username: 'erin', name: 'other' });
    const confirm = await staff.get('/admin/users/erin/revoke-all/');
    expect(confirm.html).toContain('Yes, revoke all');
    const done = await staff.post('/admin/users/erin/revoke-all/', { csrfmiddlewaretoken: confirm.csrf(), reason: 'offboarding' });
    expect(done.status).toBe(303);
    expect((await call(`${service.url}/api/whoami/`, { token: key })).status).toBe(401);
    const revoked = (await stream('erin')).filter((e) => e.type === 'TokenRevoked');
    expect(revoked.map((e) => (e.data as { name: string }).name)).toEqual(expect.arrayContaining(['deploy', 'other']));
    expect(revoked.every((e) => (e.data as { reason: string }).reason === 'offboarding' && e.metadata.channel === 'admin')).toBe(true);
  });

  it('verify log shows the head audit verify computes; "was this key valid at" never echoes the key', async () => {
    const verified = await staff.submit('/admin/history/verify/', {});
    const { head } = await verifyLog(service.ledger.store);
    expect(verified.html).toContain(`<code id="head-hash">${head}</code>`);
    expect(verified.html).toContain('The log is intact');

    const { key } = await service.ledger.issueToken({ username: 'pat', name: 'probe' });
    const issuedAt = new Date().toISOString();
    // The revocation must fall in a later millisecond than the instant asked about.
    await new Promise((done) => setTimeout(done, 5));
    await service.ledger.revokeToken({ username: 'pat', name: 'probe' });
    const then = await staff.submit('/admin/history/key/', { key, at: issuedAt });
    expect(then.html).toContain('<h2>Valid at');
    expect(then.html).toContain('token &quot;probe&quot; of user pat');
    const now = await staff.submit('/admin/history/key/', { key, at: '' });
    expect(now.html).toContain('<h2>Not valid at');
    for (const page of [then, now]) expect(page.html).not.toContain(key);
  });
});

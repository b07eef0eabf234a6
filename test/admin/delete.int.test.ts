import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userEvents } from '../../src/app/audit/history.js';
import { verifyLog } from '../../src/app/audit/verify.js';
import { call, type Service } from '../http/harness.js';
import { consoleService, STAFF, Visitor } from './client.js';

// Issue 17 in the console: delete a user behind a confirmation page, a POST with the CSRF token, the privilege rules of src/app.
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
const head = async () => (await verifyLog(service.ledger.store)).head;
const whoami = (key: string) => call(`${service.url}/api/whoami/`, { token: key });
const listed = async (visitor: Visitor, username: string) =>
  (await visitor.get('/admin/users/')).html.includes(`href="/admin/users/${encodeURIComponent(username)}/"`);

describe('delete a user in the console', () => {
  it('a POST without the CSRF token is refused with 403 and the log is unchanged', async () => {
    await service.ledger.registerUser({ username: 'dora', password: 'dora-pass-123' });
    const { key } = await service.ledger.issueToken({ username: 'dora', name: 'laptop' });
    const before = await head();
    const forged = await staff.post('/admin/users/dora/delete/', {});
    expect(forged.status).toBe(403);
    expect(forged.html).toContain('CSRF verification failed. Request aborted.');
    const wrong = await staff.post('/admin/users/dora/delete/', { csrfmiddlewaretoken: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(await head()).toBe(before);
    expect((await whoami(key)).status).toBe(200);
    expect(await listed(staff, 'dora')).toBe(true);
  });

  it('a staff member who is not a superuser cannot delete a superuser: the 403 page, nothing changed', async () => {
    await service.ledger.registerUser({ username: 'gil', password: 'gil-staff-pass-1', isStaff: true });
    const gil = new Visitor(service.url);
    expect((await gil.signIn('gil', 'gil-staff-pass-1')).status).toBe(303);
    const { key } = await service.ledger.issueToken({ username: STAFF.username, name: 'ops' });
    const confirm = await gil.get(`/admin/users/${STAFF.username}/delete/`);
    expect(confirm.status).toBe(200);
    const before = await head();
    const refused = await gil.post(`/admin/users/${STAFF.username}/delete/`, { csrfmiddlewaretoken: confirm.csrf(), post: 'yes' });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('Only a superuser can delete a superuser.');
    expect(await head()).toBe(before);
    expect((await stream(STAFF.username)).some((e) => e.type === 'UserDeleted')).toBe(false);
    expect((await whoami(key)).status).toBe(200);
    expect(await listed(gil, STAFF.username)).toBe(true);
  });

  it('staff deletes carol through the confirmation page: her key answers 401 Invalid token., she leaves the list, UserDeleted has channel admin and the staff actor', async () => {
    await service.ledger.registerUser({ username: 'carol', password: 'carol-pass-123' });
    const { key } = await service.ledger.issueToken({ username: 'carol', name: 'laptop' });
    expect((await whoami(key)).status).toBe(200);
    expect(await listed(staff, 'carol')).toBe(true);

    const userPage = await staff.get('/admin/users/carol/');
    expect(userPage.html).toContain('href="/admin/users/carol/delete/">Delete user</a>');
    const confirm = await staff.get('/admin/users/carol/delete/');
    expect(confirm.status).toBe(200);
    for (const said of ['stops working at once', 'personal data', 'username stays reserved', 'This cannot be undone.', 'Yes, delete']) expect(confirm.html).toContain(said);
    expect(confirm.html).toContain('action="/admin/users/carol/delete/"');
    expect(confirm.html).not.toMatch(/<script(?![^>]*src="\/admin\/static\/admin\.js")/);

    const done = await staff.post('/admin/users/carol/delete/', { csrfmiddlewaretoken: confirm.csrf(), post: 'yes' });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/admin/users/');

    const refused = await whoami(key);
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({ detail: 'Invalid token.' });

    const list = await staff.get('/admin/users/');
    expect(list.html).toContain('The user “carol” was deleted.');
    expect(list.html).not.toContain('href="/admin/users/carol/"');

    const deleted = (await stream('carol')).filter((e) => e.type === 'UserDeleted');
    expect(deleted.length).toBe(1);
    expect(deleted[0]!.metadata).toMatchObject({ actor: STAFF.username, channel: 'admin', correlationId: done.headers.get('x-request-id') });

    // Her page is gone and the username stays reserved.
    expect((await staff.get('/admin/users/carol/')).status).toBe(404);
    const again = await staff.submit('/admin/users/add/', { username: 'carol', password1: 'carol-pass-456', password2: 'carol-pass-456' });
    expect(again.status).toBe(400);
  });
});

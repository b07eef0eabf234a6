import { userEvents } from '../../src/app/audit/history.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Response } from 'playwright-core';
import { STAFF_LOGIN_ERROR } from '../../src/admin/console.js';
import { digestKey } from '../../src/domain/index.js';
import { call, type Service } from '../http/harness.js';
import { expectAccessible, launch, screenshot, signIn } from './browser.js';
import { consoleService, STAFF } from './client.js';

let service: Service;
let browser: Browser;
beforeAll(async () => {
  [service, browser] = await Promise.all([consoleService(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
});

const CAROL_PASSWORD = 'carol-first-pass-7';

describe('the console in a real browser: the issue acceptance walk', () => {
  it('staff add carol, give her a token, the key works, revoke it in the console, the history shows it, sign out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Every response the browser got, for "the key is on exactly one response".
    const responses: { url: string; status: number; headers: Record<string, string>; body: string }[] = [];
    page.on('response', (response: Response) => {
      void response
        .text()
        .catch(() => '')
        .then((body) => responses.push({ url: response.url(), status: response.status(), headers: response.headers(), body }));
    });
    await page.goto(`${service.url}/admin/login/`);
    await screenshot(page, 'sign-in');
    await expectAccessible(page);
    await signIn(page, service.url, STAFF.username, STAFF.password);
    expect(page.url()).toBe(`${service.url}/admin/`);
    const session = (await context.cookies()).find((c) => c.name === 'tl_admin_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin/', secure: false });
    expect(await page.evaluate('document.cookie')).toBe('');

    // Add user, Django's two steps.
    await page.goto(`${service.url}/admin/users/add/`);
    await expectAccessible(page);
    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Password', { exact: true }).fill(CAROL_PASSWORD);
    await page.getByLabel('Password confirmation').fill(CAROL_PASSWORD);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${service.url}/admin/users/carol/`);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('The user “carol” was added successfully');
    await expectAccessible(page);

    // Add a token for carol; the key is shown once.
    await page.getByRole('link', { name: 'Add token' }).click();
    await page.getByLabel('Name').fill('laptop');
    await page.getByLabel('Description').fill('carol laptop');
    await expectAccessible(page);
    const [created] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${service.url}/admin/tokens/add/` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create token' }).click(),
    ]);
    expect(created.status()).toBe(200);
    expect(created.headers()['cache-control']).toBe('no-store');
    const key = (await page.locator('#new-key').textContent())!.trim();
    expect(key).toMatch(/^tl_/);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('it will not be shown again');
    await screenshot(page, 'key-shown-once');
    await expectAccessible(page);

    const whoami = () => call(`${service.url}/api/whoami/`, { token: key });
    expect((await whoami()).status).toBe(200);

    // Revoke it in the console, behind its confirmation page.
    await page.getByRole('link', { name: 'Done' }).click();
    await page.getByRole('row', { name: /laptop/ }).getByRole('link', { name: 'Revoke' }).click();
    await expectAccessible(page);
    await page.getByLabel('Reason').fill('laptop lost');
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.waitForURL(`${service.url}/admin/users/carol/`);
    const refused = await whoami();
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({ detail: 'Invalid token.' });

    // The history shows the three events, on channel admin, by the staff member.
    await page.goto(`${service.url}/admin/history/?user=carol`);
    const rows = page.locator('tr.event');
    await expect.poll(() => rows.count()).toBe(3);
    const seen = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({ type: tr.getAttribute('data-type'), actor: tr.querySelector('.actor')!.textContent, channel: tr.querySelector('.channel')!.textContent })),
    );
    expect(seen).toEqual([
      { type: 'TokenRevoked', actor: 'sam', channel: 'admin' },
      { type: 'TokenIssued', actor: 'sam', channel: 'admin' },
      { type: 'UserRegistered', actor: 'sam', channel: 'admin' },
    ]);
    await expectAccessible(page);

    // Sign out: the session cookie no longer opens /admin/.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${service.url}/admin/login/`);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Signed out');
    expect((await context.cookies()).some((c) => c.name === 'tl_admin_session')).toBe(false);
    const replay = await fetch(`${service.url}/admin/`, { redirect: 'manual', headers: { Cookie: `tl_admin_session=${session.value}` } });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/admin\/login\//);

    // The key was on exactly one response (the one that created it); no secret anywhere else.
    await expect.poll(() => responses.length).toBeGreaterThan(10);
    const withKey = responses.filter((r) => r.body.includes(key));
    expect(withKey.map((r) => `${r.status} ${r.url}`)).toEqual([`200 ${service.url}/admin/tokens/add/`]);
    const digest = digestKey(key);
    for (const r of responses) {
      expect(r.url).not.toContain(key);
      expect(r.headers.location ?? '').not.toContain(key);
      expect(r.body).not.toContain(digest);
      expect(r.body).not.toContain(CAROL_PASSWORD);
      expect(r.body).not.toContain(session.value);
    }
    const logs = service.logs.join('\n');
    for (const secret of [key, digest, CAROL_PASSWORD, session.value, STAFF.password]) expect(logs).not.toContain(secret);
    const events = JSON.stringify((await service.ledger.store.readAll({})).map((e) => [e.data, e.metadata]));
    for (const secret of [key, CAROL_PASSWORD, session.value, STAFF.password]) expect(events).not.toContain(secret);
    await context.close();
  });

  it('without JavaScript: a non-staff user cannot sign in; a deactivated staff member open session stops working on the next click', async () => {
    await service.ledger.registerUser({ username: 'dana', password: 'dana-staff-pass-2', isStaff: true });
    // Both browsers run no script at all: every page works as plain forms and links.
    const dana = await browser.newContext({ javaScriptEnabled: false });
    const danaPage = await dana.newPage();
    await signIn(danaPage, service.url, 'pat', 'pat-plain-pass-1');
    await expect.poll(() => danaPage.getByRole('alert').textContent()).toContain(STAFF_LOGIN_ERROR);
    expect((await dana.cookies()).some((c) => c.name === 'tl_admin_session')).toBe(false);
    await signIn(danaPage, service.url, 'dana', 'dana-staff-pass-2');
    expect(danaPage.url()).toBe(`${service.url}/admin/`);

    const sam = await browser.newContext({ javaScriptEnabled: false });
    const samPage = await sam.newPage();
    await signIn(samPage, service.url, STAFF.username, STAFF.password);
    await samPage.goto(`${service.url}/admin/users/dana/`);
    await samPage.getByLabel('Active').uncheck();
    await samPage.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => samPage.getByRole('status').textContent()).toContain('was changed successfully');

    await danaPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await danaPage.waitForURL(/\/admin\/login\/\?next=/);
    await expect.poll(() => danaPage.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    const [deactivated] = (await userEvents(service.ledger.store, 'dana')).filter((e) => e.type === 'UserDeactivated');
    expect(deactivated!.metadata).toMatchObject({ actor: 'sam', channel: 'admin' });
    await Promise.all([dana.close(), sam.close()]);
  });
});

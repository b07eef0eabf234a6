import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Service } from '../http/harness.js';
import { STAFF_LOGIN_ERROR } from '../../src/admin/console.js';
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

describe('signing in and out in a real browser', () => {
  it('the sign-in page is accessible and works without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${service.url}/admin/login/`);
    await screenshot(page, 'sign-in');
    await signIn(page, service.url, STAFF.username, STAFF.password);
    await expect.poll(() => page.locator('#signed-in-as').textContent()).toBe('sam');
    await context.close();
    const withScript = await browser.newPage();
    await withScript.goto(`${service.url}/admin/login/`);
    await expectAccessible(withScript);
    await withScript.close();
  });

  it('staff sign in, get the cookie of the issue, sign out, and the cookie is gone', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, service.url, STAFF.username, STAFF.password);
    expect(page.url()).toBe(`${service.url}/admin/`);
    const cookie = (await context.cookies()).find((c) => c.name === 'tl_admin_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin/', secure: false });
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${service.url}/admin/login/`);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Signed out');
    expect((await context.cookies()).some((c) => c.name === 'tl_admin_session')).toBe(false);
    await context.close();
  });

  it('a non-staff user gets Django message and no session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, service.url, 'pat', 'pat-plain-pass-1');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain(STAFF_LOGIN_ERROR);
    expect((await context.cookies()).some((c) => c.name === 'tl_admin_session')).toBe(false);
    await context.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Service } from '../http/harness.js';
import { launch, signIn } from './browser.js';
import { consoleService, STAFF } from './client.js';

const PAYLOADS = ['<img src=x onerror=alert(1)>', '"><script>alert(2)</script>'];

let service: Service;
let browser: Browser;
beforeAll(async () => {
  [service, browser] = await Promise.all([consoleService(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
});

/** No dialog fired, no element of the payload's was created, and the payload reads as text. */
async function expectInert(page: Page, dialogs: string[], payload: string): Promise<void> {
  expect(dialogs).toEqual([]);
  const made = await page.evaluate(`({
    images: document.querySelectorAll('img').length,
    scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
  })`);
  expect(made).toEqual({ images: 0, scripts: ['/admin/static/admin.js'] });
  expect(await page.content()).not.toContain(payload);
}

describe('free text on console pages renders as text', () => {
  it('a token description and a revoke reason, on the user page and in the history', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await signIn(page, service.url, STAFF.username, STAFF.password);
    for (const [i, payload] of PAYLOADS.entries()) {
      await page.goto(`${service.url}/admin/tokens/add/?user=pat`);
      await page.getByLabel('Name').fill(`t${i}`);
      await page.getByLabel('Description').fill(payload);
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.locator('#new-key').waitFor();
    }
    await page.goto(`${service.url}/admin/users/pat/`);
    for (const payload of PAYLOADS) {
      await expect.poll(() => page.getByRole('cell', { name: payload, exact: true }).count()).toBe(1);
      await expectInert(page, dialogs, payload);
    }
    for (const [i, payload] of PAYLOADS.entries()) {
      await page.goto(`${service.url}/admin/users/pat/tokens/t${i}/revoke/`);
      await page.getByLabel('Reason').fill(payload);
      await page.getByRole('button', { name: 'Yes, revoke' }).click();
      await page.waitForURL(`${service.url}/admin/users/pat/`);
    }
    await page.goto(`${service.url}/admin/history/?user=pat&type=TokenRevoked`);
    const shown = await page.locator('tr.event pre').allTextContents();
    for (const payload of PAYLOADS) {
      expect(shown.some((text) => text.includes(JSON.stringify(payload).slice(1, -1)))).toBe(true);
      await expectInert(page, dialogs, payload);
    }
    await page.close();
  });

  it('a refused username echoed in an error: the sign-in form and the add-user form', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    for (const payload of PAYLOADS) {
      await signIn(page, service.url, payload, 'whatever');
      await expect.poll(() => page.getByLabel('Username').inputValue()).toBe(payload);
      await expectInert(page, dialogs, payload);
    }
    await signIn(page, service.url, STAFF.username, STAFF.password);
    for (const payload of PAYLOADS) {
      await page.goto(`${service.url}/admin/users/add/`);
      await page.getByLabel('Username').fill(payload);
      await page.getByLabel('Password', { exact: true }).fill('a-fine-pass-9');
      await page.getByLabel('Password confirmation').fill('a-fine-pass-9');
      await page.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Enter a valid username');
      await expect.poll(() => page.getByLabel('Username').inputValue()).toBe(payload);
      await expectInert(page, dialogs, payload);
    }
    await page.close();
  });
});

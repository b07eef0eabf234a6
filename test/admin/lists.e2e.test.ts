import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { digestKey } from '../../src/domain/index.js';
import type { Service } from '../http/harness.js';
import { expectAccessible, launch, screenshot, signIn } from './browser.js';
import { consoleService, STAFF } from './client.js';

let service: Service;
let browser: Browser;
const keys: string[] = [];
beforeAll(async () => {
  [service, browser] = await Promise.all([consoleService(), launch()]);
  // 60 more users (so the list has a second page), each with a token; every fifth is staff, every seventh inactive.
  for (let i = 0; i < 60; i++) {
    const username = `user${String(i).padStart(2, '0')}`;
    await service.ledger.registerUser({ username, password: null, isStaff: i % 5 === 0 });
    if (i % 7 === 0) await service.ledger.deactivateUser(username);
    keys.push((await service.ledger.issueToken({ username, name: 'ci', scopes: i % 2 ? ['users:read'] : [], description: `token of ${username}` })).key);
  }
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
});

describe('the lists, from the directory', () => {
  it('users: paginated, searched and filtered; tokens: filtered, never a key; add token picks its user by search', async () => {
    const page = await browser.newPage();
    await signIn(page, service.url, STAFF.username, STAFF.password);
    await expect.poll(() => page.locator('.tiles').textContent()).toContain('62 users');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    await screenshot(page, 'user-list');
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Next page' }).click();
    await expect.poll(() => rows.count()).toBe(12);
    await page.getByRole('link', { name: 'Previous page' }).click();
    await expect.poll(() => rows.count()).toBe(50);

    await page.getByLabel('Search').fill('user1');
    await page.getByLabel('Staff').selectOption('yes');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rows.locator('td:first-child').allTextContents()).toEqual(['user10', 'user15']);
    await page.goto(`${service.url}/admin/users/?active=no`);
    await expect.poll(() => rows.count()).toBe(9);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tokens' }).click();
    await expect.poll(() => rows.count()).toBe(50);
    await screenshot(page, 'token-list');
    await expectAccessible(page);
    await page.getByLabel('User').fill('user07');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await page.goto(`${service.url}/admin/tokens/?scope=users:read&prefix=${encodeURIComponent(keys[1]!.slice(0, 6))}`);
    await expect.poll(() => rows.locator('td:first-child').allTextContents()).toEqual(['user01']);
    for (const path of ['/admin/tokens/', '/admin/tokens/?status=any', '/admin/users/user01/']) {
      await page.goto(`${service.url}${path}`);
      const html = await page.content();
      for (const key of keys) {
        expect(html).not.toContain(key);
        expect(html).not.toContain(digestKey(key));
        expect(html).not.toContain(digestKey(key).slice(0, 12));
      }
    }

    // Add token: the user is found by typing, not chosen from a select of every user.
    await page.goto(`${service.url}/admin/tokens/add/`);
    expect(await page.locator('select').count()).toBe(0);
    await page.getByLabel('Find the user').fill('user4');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('ul.picks li').count()).toBe(10);
    await page.getByRole('link', { name: 'user42' }).click();
    await expect.poll(() => page.getByLabel('User').inputValue()).toBe('user42');
    await expectAccessible(page);
    await page.close();
  });
});

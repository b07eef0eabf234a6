import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, spawnServe, type ServeProcess } from './process.js';

// `tokenledger generateschema` and a running server's /api/schema/ and /api/docs/: the same
// document for the same settings; the docs page in a real Chromium, offline.
const dir = mkdtempSync(join(tmpdir(), 'tl-schema-'));
const env = { TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '', TOKENLEDGER_LOGIN_THROTTLE: 'off' };
const cli = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
let server: ServeProcess;
let key = '';
/** `generateschema` and `generateschema --format openapi-json`, run once. */
let cliYaml = '';
let cliJson = '';

beforeAll(async () => {
  cli('user', 'create', 'alice', '--no-password', '--staff');
  key = /Generated token (\S+) for user alice/.exec(cli('drf_create_token', 'alice'))![1]!;
  [server, cliYaml, cliJson] = await Promise.all([spawnServe(dir, env), Promise.resolve().then(() => cli('generateschema')), Promise.resolve().then(() => cli('generateschema', '--format', 'openapi-json'))]);
});
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe('generateschema and /api/schema/', () => {
  it('--format openapi-json is JSON a program can parse; --file writes the same; YAML by default', () => {
    const json = cliJson;
    const document = JSON.parse(json);
    expect(document.openapi).toBe('3.1.0');
    cli('generateschema', '--format', 'openapi-json', '--file', join(dir, 'openapi.json'));
    expect(readFileSync(join(dir, 'openapi.json'), 'utf8')).toBe(json);
    expect(cliYaml.startsWith('openapi: 3.1.0\n')).toBe(true);
    const titled = JSON.parse(cli('generateschema', '--format', 'openapi-json', '--title', 'Accounts', '--api_version', '2.1', '--description', 'Ours', '--url', 'https://api.example.com'));
    expect(titled.info).toMatchObject({ title: 'Accounts', version: '2.1', description: 'Ours' });
    expect(titled.servers).toEqual([{ url: 'https://api.example.com' }]);
  });

  it('GET /api/schema/ equals the command: YAML by default, JSON by ?format= or Accept, anonymous', async () => {
    const yaml = await fetch(`${server.url}/api/schema/`);
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toBe('application/vnd.oai.openapi; charset=utf-8');
    expect(await yaml.text()).toBe(cliYaml);
    const json = cliJson;
    expect(await (await fetch(`${server.url}/api/schema/?format=openapi-json`)).text()).toBe(json);
    const accepted = await fetch(`${server.url}/api/schema/`, { headers: { Accept: 'application/vnd.oai.openapi+json' } });
    expect(accepted.headers.get('content-type')).toBe('application/vnd.oai.openapi+json');
    expect(await accepted.text()).toBe(json);
    expect((await fetch(`${server.url}/api/schema/?format=xml`)).status).toBe(404);
  });

  it('TOKENLEDGER_SCHEMA_ACCESS=staff: 401 without a key, 200 for staff', async () => {
    const staffDir = mkdtempSync(join(tmpdir(), 'tl-schema-staff-'));
    const staff = await spawnServe(staffDir, { ...env, TOKENLEDGER_SCHEMA_ACCESS: 'staff' });
    try {
      const anonymous = await fetch(`${staff.url}/api/schema/`);
      expect([anonymous.status, await anonymous.text()]).toEqual([401, '{"detail":"Authentication credentials were not provided."}']);
      expect((await fetch(`${staff.url}/api/docs/`)).status).toBe(401);
      expect((await fetch(`${staff.url}/api/docs/assets/swagger-ui-bundle.js`)).status).toBe(401);
      const withKey = await fetch(`${staff.url}/api/schema/`, { headers: { Authorization: `Token ${key}` } });
      expect(withKey.status).toBe(200);
    } finally {
      staff.child.kill('SIGTERM');
      await staff.exited;
      rmSync(staffDir, { recursive: true, force: true });
    }
  });
});

describe('GET /api/docs/ in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: process.env.TOKENLEDGER_CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
  });
  afterAll(() => browser?.close());

  it('lists every operation, asks no other host for anything, and Authorize works with `Token <key>`', async () => {
    const page = await browser.newPage();
    const origin = new URL(server.url).origin;
    const elsewhere: string[] = [];
    // Every request the page makes is intercepted: one to another host is recorded and refused.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin !== origin && !url.startsWith('data:')) {
        elsewhere.push(url);
        return route.abort();
      }
      return route.continue();
    });
    await page.goto(`${server.url}/api/docs/`);
    const document = JSON.parse(cliJson);
    const ids: string[] = Object.values(document.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) => Object.values(item).map((o) => o.operationId));
    await page.locator('.opblock').first().waitFor();
    const shown = await page.locator('.opblock').count();
    expect(shown).toBe(ids.length);
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) {
        await expect.poll(() => page.locator(`.opblock-${method} [data-path="${path}"]`).count(), { message: `${method} ${path}` }).toBeGreaterThan(0);
      }
    }

    // Authorize with `Token <key>`, then call whoami from the page.
    await page.locator('button.authorize').first().click();
    await page.locator('.modal-ux input[type=text]').fill(`Token ${key}`);
    await page.locator('.modal-ux button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();
    const whoami = page.locator('#operations-session-whoami');
    await whoami.locator('.opblock-summary').click();
    await whoami.locator('button.try-out__btn').click();
    const answered = page.waitForResponse((response) => response.url().endsWith('/api/whoami/'));
    await whoami.locator('button.execute').click();
    const response = await answered;
    expect(response.status()).toBe(200);
    expect(await response.json()).toMatchObject({ username: 'alice', isStaff: true });
    expect(elsewhere).toEqual([]);
    await page.close();
  });
});

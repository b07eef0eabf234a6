import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, loginKey, startService, type Service } from './harness.js';

/**
 * What a staff caller writes stays in the user's stream for good and is read back on every fold
 * and lookup, so its size is bounded: a description and a revoke reason of at most 1024
 * characters, at most 64 scopes. Beyond them: DRF's 400 with DRF's words, and nothing appended.
 */
let svc: Service;
let staff: string;
beforeAll(async () => {
  svc = await startService();
  await svc.ledger.registerUser({ username: 'root', password: 'Root-Pass-123', isStaff: true, isSuperuser: true });
  await svc.ledger.registerUser({ username: 'alice', password: 'Alice-Pass-123' });
  staff = await loginKey(svc.url, 'root', 'Root-Pass-123');
});
afterAll(() => svc?.close());

const create = (json: unknown) => call(`${svc.url}/api/tokens/`, { method: 'POST', token: staff, json });
const scopes = (n: number) => Array.from({ length: n }, (_, i) => `area${i}:read`);

it('a description over 1024 characters, the review\'s 900 KB one included, is refused', async () => {
  const head = await svc.ledger.store.headPosition();
  for (const description of ['d'.repeat(1025), 'x'.repeat(900_000)]) {
    const reply = await create({ username: 'alice', name: 'long', description });
    expect([reply.status, reply.json]).toEqual([400, { description: ['Ensure this field has no more than 1024 characters.'] }]);
  }
  expect(await svc.ledger.store.headPosition()).toBe(head);
  expect((await create({ username: 'alice', name: 'at-limit', description: 'd'.repeat(1024) })).status).toBe(201);
});

it('more than 64 scopes, the review\'s 40,000 included, are refused', async () => {
  for (const n of [65, 40_000]) {
    const reply = await create({ username: 'alice', name: 'wide', scopes: scopes(n) });
    expect([reply.status, reply.json]).toEqual([400, { scopes: ['Ensure this field has no more than 64 elements.'] }]);
  }
  expect((await create({ username: 'alice', name: 'wide', scopes: scopes(64) })).status).toBe(201);
});

it('a revoke reason over 1024 characters is refused, and the token stays', async () => {
  const long = await call(`${svc.url}/api/tokens/alice/wide/?reason=${'r'.repeat(1025)}`, { method: 'DELETE', token: staff });
  expect([long.status, long.json]).toEqual([400, { reason: ['Ensure this field has no more than 1024 characters.'] }]);
  expect((await call(`${svc.url}/api/tokens/alice/wide/`, { token: staff })).status).toBe(200);
  expect((await call(`${svc.url}/api/tokens/alice/wide/?reason=${'r'.repeat(1024)}`, { method: 'DELETE', token: staff })).status).toBe(204);
});

it('the same limits hold for every channel (the CLI and the admin console go through the ledger)', async () => {
  await expect(svc.ledger.issueToken({ username: 'alice', name: 'cli', description: 'd'.repeat(1025) })).rejects.toMatchObject({ code: 'invalid_input' });
  await expect(svc.ledger.issueToken({ username: 'alice', name: 'cli', scopes: scopes(65) })).rejects.toMatchObject({ code: 'invalid_input' });
  await expect(svc.ledger.revokeToken({ username: 'alice', name: 'at-limit', reason: 'r'.repeat(1025) })).rejects.toMatchObject({ code: 'invalid_input' });
});

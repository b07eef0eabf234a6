import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, startService, type Service } from './harness.js';

/**
 * Unknown-user and wrong-password logins take the same time within noise, because both
 * run one scrypt. A behaviour check, not a benchmark: without the dummy hash an unknown user is
 * answered about 100x faster, far outside the generous bound used here.
 */
let svc: Service;
beforeAll(async () => {
  svc = await startService();
  await svc.ledger.registerUser({ username: 'alice', password: 'wonderland-123' });
});
afterAll(() => svc.close());

async function timed(username: string): Promise<number> {
  const started = performance.now();
  const reply = await call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username, password: 'not-the-password' } });
  expect(reply.status).toBe(400);
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

it('an unknown user costs what a wrong password costs', async () => {
  await timed('alice');
  await timed('nobody-0');
  const unknown: number[] = [];
  const wrong: number[] = [];
  // Interleaved, so load from anything else on the machine hits both sides alike.
  for (let i = 1; i <= 5; i++) {
    unknown.push(await timed(`nobody-${i}`));
    wrong.push(await timed('alice'));
  }
  const ratio = median(unknown) / median(wrong);
  expect(ratio, `unknown ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`).toBeGreaterThan(0.5);
  expect(ratio).toBeLessThan(2);
});

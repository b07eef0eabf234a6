import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { openLedger } from '../../src/app/ledger.js';
import { loadSettings } from '../../src/config.js';
import { digestKey } from '../../src/domain/index.js';
import { openProjection } from '../../src/projection/open.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tl-follow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How long after `since` the check first passes (polling every 5 ms, up to 5 s). */
async function msUntil(check: () => Promise<boolean>, since: number): Promise<number> {
  while (!(await check())) {
    if (performance.now() - since > 5_000) return Infinity;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - since;
}

it('a server on the memory projection sees what another process appends, within 250 ms (with margin)', async () => {
  const store = `sqlite:${join(dir, 'events.db')}`;
  const settings = loadSettings({}, { TOKENLEDGER_STORE: store });
  const writer = await openLedger({ settings });
  await writer.registerUser({ username: 'alice', password: null });
  await writer.close();

  const runtime = await openProjection(settings);
  try {
    await runtime.projector.catchUp();
    runtime.projector.start();
    const env = { ...process.env, TOKENLEDGER_STORE: store, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' };
    const created = await run(process.execPath, ['bin/run.js', 'token', 'create', 'alice'], { env });
    const issuedAt = performance.now();
    const key = /^Generated token (\S+) for user alice$/m.exec(created.stdout)![1]!;
    const seen = await msUntil(async () => (await runtime.store.lookup(digestKey(key))) !== null, issuedAt);

    await run(process.execPath, ['bin/run.js', 'token', 'revoke', 'alice'], { env });
    const revokedAt = performance.now();
    const gone = await msUntil(async () => (await runtime.store.lookup(digestKey(key))) === null, revokedAt);

    // The projector polls every 50 ms: typically seen in well under 100 ms. The bound leaves room
    // for a loaded test machine; what must never happen is the change not arriving at all.
    expect(seen).toBeLessThan(1_000);
    expect(gone).toBeLessThan(1_000);
  } finally {
    await runtime.close();
  }
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDeps } from '../../src/app/context.js';
import { Ledger } from '../../src/app/ledger.js';
import { MemoryProjectionStore } from '../../src/projection/memory.js';
import { tempLedger, whoamiApp } from './fixtures.js';
import { get, listen, type Listening, type Reply } from './http.js';
import { sparePort } from './redis-server.js';

/**
 * The SPEC §7 table sent to the real DRF (the reference peer of /work/shared/drf-peer, Debian's
 * DRF 3.14 under gunicorn) and to tokenAuth, answer for answer. It needs that peer installed
 * (`sh /work/shared/drf-peer/install.sh`); without it, it says so and skips.
 */
const PEER = process.env.TOKENLEDGER_DRF_PEER ?? '/work/shared/drf-peer';
// The peer's fixed users and keys (its setup.sh): alice active, bob inactive.
const ALICE = '9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b';
const BOB = '04809b78c548af66759e2d2145f2e222fc3a56b2';

function peerInstalled(): boolean {
  if (!existsSync(join(PEER, 'serve.sh'))) return false;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import rest_framework, django'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const installed = peerInstalled();
if (!installed) console.log(`drf-peer.e2e: skipped, the DRF reference peer is not installed (sh ${PEER}/install.sh)`);

describe.skipIf(!installed)('tokenAuth answers as the real DRF does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-b2-drf-'));
  let gunicorn: ChildProcess;
  let drf: Listening;
  let ours: Listening;
  let fx: Awaited<ReturnType<typeof tempLedger>>;

  beforeAll(async () => {
    const env = { ...process.env, DRF_DB: join(dir, 'db.sqlite3') };
    execFileSync('sh', [join(PEER, 'setup.sh')], { env, stdio: 'ignore' });
    const port = await sparePort();
    gunicorn = spawn('sh', [join(PEER, 'serve.sh')], { env: { ...env, PORT: String(port), WORKERS: '1' }, stdio: 'ignore' });
    drf = { port, url: `http://127.0.0.1:${port}`, close: async () => {} };
    for (let i = 0; i < 300; i++) {
      const up = await fetch(`${drf.url}/api/whoami/`).then(() => true, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    // The same two users and the same two keys on our side: the DRF keys come from `random`.
    fx = await tempLedger();
    const withKey = (hex: string) => new Ledger({ ...fx.ledger.deps, random: () => Buffer.from(hex, 'hex') }, fx.ledger.actor);
    for (const [username, hex] of [['alice', ALICE], ['bob', BOB]] as const) {
      await fx.ledger.registerUser({ username, password: null });
      await withKey(hex).issueToken({ username, format: 'drf' });
    }
    await fx.ledger.deactivateUser('bob');
    const projection = new MemoryProjectionStore();
    await projection.apply(await fx.store.readAll());
    ours = await listen(whoamiApp(projection));
  }, 120_000);

  afterAll(async () => {
    gunicorn?.kill('SIGTERM');
    await ours?.close();
    await fx?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows: [string, string | null][] = [
    ['Token <key>', `Token ${ALICE}`],
    ['token <key>', `token ${ALICE}`],
    ['TOKEN <key>', `TOKEN ${ALICE}`],
    ['  Token   <key>  ', `  Token   ${ALICE}  `],
    ['Token\\t<key>', `Token\t${ALICE}`],
    ['no header', null],
    ["''", ''],
    ['Bearer <key>', `Bearer ${ALICE}`],
    ['Basic …', 'Basic YWxpY2U6d29uZGVybGFuZC0xMjM='],
    ['Tokenabc', 'Tokenabc'],
    ['Token\\xa0<key>', `Token\xa0${ALICE}`],
    ['Token', 'Token'],
    ['Token   ', 'Token   '],
    ['Token a b', 'Token a b'],
    ['Token <key>\\xb8', `Token ${ALICE}\xb8`],
    ['Token <key>é (UTF-8)', `Token ${ALICE}\xc3\xa9`],
    ['Token <KEY>', `Token ${ALICE.toUpperCase()}`],
    ['Token "<key>"', `Token "${ALICE}"`],
    ['Token <key>,', `Token ${ALICE},`],
    ["inactive user's key", `Token ${BOB}`],
  ];

  const essence = (reply: Reply) => ({
    status: reply.status,
    body: reply.body,
    contentType: reply.status === 200 ? 'any' : reply.headers['content-type'],
    challenge: reply.headers['www-authenticate'] ?? null,
  });

  it.each(rows)('%s', async (_, authorization) => {
    const [theirs, mine] = await Promise.all([get(drf, '/api/whoami/', authorization), get(ours, '/api/whoami/', authorization)]);
    expect(theirs.status).not.toBe(500);
    expect(essence(mine)).toEqual(essence(theirs));
  });
});

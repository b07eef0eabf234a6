import { spawn } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { openLog, resolveUser } from '../../../src/eventstore/vault/index.js';
import { pgSchemas } from '../../eventstore/postgres-fixture.js';

const schemas = pgSchemas('race');
afterAll(() => schemas.dropAll());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], store: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/run.js', ...args], { env: { ...process.env, TOKENLEDGER_STORE: store } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it('20 racing `token create bob` processes on PostgreSQL issue exactly one token', async () => {
  const store = schemas.url();
  expect((await cli(['user', 'create', 'bob', '--no-password'], store)).code).toBe(0);

  const runs = await Promise.all(Array.from({ length: 20 }, () => cli(['token', 'create', 'bob'], store)));

  const winners = runs.filter((r) => r.code === 0);
  expect(winners).toHaveLength(1);
  expect(winners[0]!.stdout).toMatch(/^Generated token tl_[0-9A-Za-z]{36} for user bob\n$/);
  for (const loser of runs.filter((r) => r.code !== 0)) {
    expect(loser.code).toBe(1);
    expect(loser.stdout).toBe('');
    expect(loser.stderr).toMatch(/already exists.*--reset/);
  }
  const log = await openLog({ store });
  const issued = (await resolveUser(log, 'bob')).history.filter((e) => e.type === 'TokenIssued');
  await log.close();
  expect(issued.map((e) => (e.data as { name: string }).name)).toEqual(['default']);
}, 180_000); // 20 Node processes on 2 cores: ~10 s idle, far more when the machine is busy

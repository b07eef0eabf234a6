import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger, type Ledger } from '../../src/app/ledger.js';
import { loadSettings } from '../../src/config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/run.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh SQLite store for one test: its own temp directory, so test files run in parallel. */
export function freshStore(): { dir: string; path: string; url: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tl-cli-'));
  const path = join(dir, 'x.db');
  return { dir, path, url: `sqlite:${path}` };
}

/** Runs `tokenledger <args>` as a real process (the built CLI), feeding `input` on stdin. */
export function tl(args: string[], options: { store: string; input?: string; env?: Record<string, string> }): Promise<Run> {
  // Whatever projection the developer's shell points at stays out of the test; the test's own
  // (options.env) goes in.
  const { TOKENLEDGER_REDIS_URL: _shellRedis, REDIS_URL: _shellRedisUrl, ...shell } = process.env;
  const env: NodeJS.ProcessEnv = { ...shell, TOKENLEDGER_STORE: options.store, ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the CLI may exit before reading all of it
    child.stdin.end(options.input ?? '');
  });
}

/** The key printed by `token create` / `token rotate`. */
export function keyOf(run: Run): string {
  const match = /^Generated token (\S+) for user \S+\n$/.exec(run.stdout);
  if (!match) throw new Error(`no key in stdout ${JSON.stringify(run.stdout)} (stderr ${JSON.stringify(run.stderr)})`);
  return match[1]!;
}

/** The ledger of a test store, in process: for setup and checks that are not the CLI under test. */
export async function ledgerOf(store: string): Promise<Ledger> {
  return openLedger({ settings: loadSettings({ store }, {}) });
}

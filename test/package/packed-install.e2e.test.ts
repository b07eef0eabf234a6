import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPackages, installPacked } from '../../bench/packed-install.mjs';

/**
 * The package as an application gets it: `npm pack`, installed into a new directory beside koa
 * alone (bench/packed-install.mjs), a small TypeScript app type-checked against the installed
 * declarations with `skipLibCheck: false`, then run with a key made by the installed CLI.
 */
const dir = mkdtempSync(join(tmpdir(), 'tl-packed-'));
const app = join(dir, 'app');
const TSC = resolve('node_modules/typescript/bin/tsc');
// As from a user's shell: without the NODE_ENV=test vitest sets (oclif then looks for TypeScript sources).
const env = { ...process.env, NODE_ENV: undefined, TOKENLEDGER_STORE: `sqlite:${join(dir, 'events.db')}`, TOKENLEDGER_REDIS_URL: '', REDIS_URL: '' };
let installed: ReturnType<typeof installPacked>;

const APP = `import Koa from 'koa';
import { loadSettings, openProjection, type TokenRecord } from 'tokenledger';
import { MESSAGES, tokenAuth, type TokenAuthState } from 'tokenledger/koa';

const projection = await openProjection(loadSettings());
await projection.projector.catchUp();
projection.projector.start();

const app = new Koa<TokenAuthState>();
app.use(tokenAuth({ projection: projection.store, onResult: (result) => void result.kind }));
app.use((ctx) => {
  const user = ctx.state.user!;
  const scopes: TokenRecord['scopes'] = [...ctx.state.auth!.scopes];
  ctx.body = { hello: user.username, staff: user.isStaff, scopes, wording: MESSAGES.invalidToken };
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(\`listening on http://127.0.0.1:\${address.port}\`);
});
process.once('SIGTERM', () => server.close(() => void projection.close()));
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'dist',
  },
  files: ['app.ts'],
};

beforeAll(() => {
  installed = installPacked(app);
  // Declarations for the type check only, after the size was taken.
  // The versions this checkout type-checks with.
  const version = (name: string) => `${name}@${JSON.parse(readFileSync(resolve(`node_modules/${name}/package.json`), 'utf8')).version}`;
  addPackages(app, version('@types/koa'), version('@types/node'));
  writeFileSync(join(app, 'app.ts'), APP);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tokenledger = (...args: string[]) => spawnSync(join(app, 'node_modules/.bin/tokenledger'), args, { cwd: app, env, encoding: 'utf8' });

describe('the packed package, installed beside koa alone', () => {
  it('brings neither the KurrentDB client nor pg, and stays under 60 MB on disk', () => {
    const names = installed.packages.map(([name]) => name);
    expect(names).toContain('tokenledger');
    expect(names).toContain('better-sqlite3');
    expect(names.filter((n) => /^(@kurrent\/|@grpc\/|pg$|pg-)/.test(n))).toEqual([]);
    console.log(`packed install: node_modules ${(installed.diskBytes / 1e6).toFixed(1)} MB on disk`);
    expect(installed.diskBytes).toBeLessThan(60e6);
  });

  it('type-checks an app against its declarations with skipLibCheck false', () => {
    const result = spawnSync(process.execPath, [TSC, '-p', app], { cwd: app, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs it, with a key from the installed drf_create_token', async () => {
    expect(tokenledger('user', 'create', 'alice', '--no-password').status).toBe(0);
    const key = /Generated token (\S+) for user alice/.exec(tokenledger('drf_create_token', 'alice').stdout)![1]!;
    const child = spawn(process.execPath, [join(app, 'dist/app.js')], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    try {
      let output = '';
      const url = await new Promise<string>((done, fail) => {
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const found = /listening on (\S+)/.exec(output);
          if (found) done(found[1]!);
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        void exited.then((code) => fail(new Error(`the app exited (${code}): ${output}`)));
      });
      const ok = await fetch(`${url}/`, { headers: { Authorization: `Token ${key}` } });
      expect(await ok.json()).toEqual({ hello: 'alice', staff: false, scopes: [], wording: 'Invalid token.' });
      const refused = await fetch(`${url}/`, { headers: { Authorization: 'Token nope' } });
      expect([refused.status, await refused.text()]).toEqual([401, '{"detail":"Invalid token."}']);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it.each([
    ['kurrentdb://127.0.0.1:2113?tls=false', '@kurrent/kurrentdb-client'],
    ['postgres://127.0.0.1:5432/tokenledger', 'pg'],
  ])('a store URL whose driver is not installed (%s) fails with one line naming %s', (store, pkg) => {
    const result = tokenledger('user', 'list', '--store', store);
    expect(result.status).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`npm install ${pkg}`);
  });
});

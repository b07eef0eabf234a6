import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { freePort } from './process.js';

/** The README walkthrough works as written. The script is the walkthrough. */
it('test/http/walkthrough.sh: serve, create a user, log in with curl, whoami, revoke, whoami again', async () => {
  const port = await freePort();
  const { stdout } = await promisify(execFile)('bash', ['test/http/walkthrough.sh'], { env: { ...process.env, PORT: String(port) }, timeout: 90_000 });
  expect(stdout).toMatch(/^\{"token":"tl_[0-9A-Za-z]{36}","expiry":"[^"]+Z"\}$/m);
  expect(stdout).toMatch(/^\{"username":"alice","token":\{"name":"login-/m);
  expect(stdout).toContain('logout: 204');
  expect(stdout).toContain('again: 401 {"detail":"Invalid token."}');
  expect(stdout).toContain('serve exited with 0');
});

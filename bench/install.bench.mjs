// npm run bench:install — what tokenledger costs a Koa user on SQLite: the packed package installed
// into a new directory beside koa alone (see bench/packed-install.mjs for how), its node_modules
// size, and the largest packages in it. Goal: under 60 MB. Figures only: nothing is asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installPacked } from './packed-install.mjs';

const MB = 1e6;
const dir = mkdtempSync(join(tmpdir(), 'tl-bench-install-'));
try {
  const started = Date.now();
  const { bytes, diskBytes, packages } = installPacked(join(dir, 'app'));
  console.log(`npm pack, then npm install koa <tarball> into a new directory (${((Date.now() - started) / 1000).toFixed(1)} s, npm cache as it is)`);
  console.log(`node_modules: ${(diskBytes / MB).toFixed(1)} MB on disk (du -sk), ${(bytes / MB).toFixed(1)} MB of file contents, ${packages.length} packages (goal < 60 MB on disk: ${diskBytes < 60 * MB ? 'met' : 'NOT met'})`);
  console.log('largest:');
  for (const [name, size] of packages.slice(0, 10)) console.log(`  ${(size / MB).toFixed(1).padStart(6)} MB  ${name}`);
  console.log('not installed (optional peers, loaded only when their URL is configured): @kurrent/kurrentdb-client, pg');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

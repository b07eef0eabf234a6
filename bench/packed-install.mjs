// Installs the packed package (npm pack) into a new directory beside koa alone, as a Koa user on
// SQLite would, and measures its node_modules. Used by `npm run bench:install` and by
// test/package/packed-install.e2e.test.ts.
//
// Install scripts are skipped and better-sqlite3's native binding is copied from this checkout (the
// same version, built for this machine): where no prebuilt binary can be downloaded, as here,
// better-sqlite3 compiles from source for minutes and leaves ~15 MB of object files a prebuilt
// install does not have. Everything else is what npm installs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const NPM_FLAGS = ['--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function npm(cwd, ...args) {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCARF_ANALYTICS: 'false' } });
}

/** Bytes of every file under `dir` (apparent sizes, symlinks not followed). */
export function sizeOf(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += sizeOf(path);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

/** What `du -sk` reports (blocks on disk, as a file manager or `du -sh node_modules` shows), in bytes. */
export function diskUsage(dir) {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024;
}

/** Top-level packages of a node_modules by size, largest first: [name, bytes][]. */
export function packagesBySize(modules) {
  const rows = [];
  for (const name of readdirSync(modules)) {
    if (name.startsWith('.')) continue;
    const path = join(modules, name);
    if (name.startsWith('@')) for (const sub of readdirSync(path)) rows.push([`${name}/${sub}`, sizeOf(join(path, sub))]);
    else rows.push([name, sizeOf(path)]);
  }
  return rows.sort((a, b) => b[1] - a[1]);
}

/**
 * Packs this checkout (already built) and installs the tarball with koa into `dir`. Returns the
 * node_modules size in bytes and the packages by size.
 */
export function installPacked(dir) {
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, npm(ROOT, 'pack', '--ignore-scripts', '--pack-destination', dir, '--loglevel=error').trim().split('\n').at(-1));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, type: 'module' }, null, 2));
  const koa = JSON.parse(readFileSync(join(ROOT, 'node_modules/koa/package.json'), 'utf8')).version;
  npm(dir, 'install', ...NPM_FLAGS, `koa@${koa}`, tarball);
  const binding = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  const ours = JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
  const theirs = JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
  if (ours !== theirs) throw new Error(`better-sqlite3 ${theirs} installed, this checkout has ${ours}: run npm install here first`);
  if (!existsSync(join(dir, binding))) {
    mkdirSync(join(dir, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
    copyFileSync(join(ROOT, binding), join(dir, binding));
  }
  const modules = join(dir, 'node_modules');
  return { tarball, bytes: sizeOf(modules), diskBytes: diskUsage(modules), packages: packagesBySize(modules) };
}

/** Adds packages to the installed app afterwards (type declarations for the type check). */
export function addPackages(dir, ...specs) {
  npm(dir, 'install', ...NPM_FLAGS, ...specs);
}

// `node --import ./test/helpers/record-modules.mjs …`: writes every module the process loads to the
// file named by TL_MODULES_FILE, one path or URL a line: ES modules as the loader resolves them
// (a hook on the loader's thread), CommonJS modules from require's cache when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.TL_MODULES_FILE;
if (!file) throw new Error('record-modules.mjs: set TL_MODULES_FILE');
register('./record-modules-hooks.mjs', import.meta.url, { data: { file } });
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(file, Object.keys(require.cache).map((path) => `${path}\n`).join('')));

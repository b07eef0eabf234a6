// node test/http/contract-report.mjs — after the HTTP tests ran: which (operation, status) pairs of the
// OpenAPI document the suite's responses covered (test/http/contract.ts writes them to
// test-artifacts/contract/), out of all the document states.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join('test-artifacts', 'contract');
const seen = new Set(readdirSync(dir).flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))));
const { schemaDocument } = await import('../../dist/src/http/app.js');
const { loadSettings } = await import('../../dist/src/config.js');
const document = schemaDocument(loadSettings({}, {}));
const all = Object.values(document.paths).flatMap((item) => Object.values(item).flatMap((op) => Object.keys(op.responses).map((s) => `${op.operationId} ${s}`)));
const operations = new Set(all.map((p) => p.split(' ')[0]));
const hit = all.filter((p) => seen.has(p));
console.log(`(operation, status) pairs covered: ${hit.length} of ${all.length} documented, over ${new Set(hit.map((p) => p.split(' ')[0])).size} of ${operations.size} operations`);
console.log(`not covered: ${all.filter((p) => !seen.has(p)).join(', ')}`);

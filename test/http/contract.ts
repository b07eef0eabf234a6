import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { schemaDocument } from '../../src/http/app.js';
import { loadSettings } from '../../src/config.js';

/**
 * The response contract: every response `call()` (harness.ts) receives from the HTTP API is checked
 * against the OpenAPI document: its status must be documented for the operation, the headers the
 * document names for that status must be there, and a JSON body must match the documented schema
 * (ajv, JSON Schema 2020-12). Any difference throws, so the test that made the request fails.
 * Requests to paths or methods the document does not describe (the admin console, a 405 for a
 * method the resource lacks, a 404 for no route) are not operations and are not checked.
 */
type Json = Record<string, any>;
const document = schemaDocument(loadSettings({}, {})) as Json;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');

interface Route {
  pattern: RegExp;
  item: Record<string, Json>;
}
const routes: Route[] = Object.entries(document.paths as Record<string, Record<string, Json>>).map(([path, item]) => ({
  pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
  item,
}));

/** (operationId, status) pairs this process saw, for the coverage report. */
const covered = new Set<string>();
process.once('exit', () => {
  if (covered.size === 0) return;
  const dir = join('test-artifacts', 'contract');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${process.pid}-${Date.now()}.json`), JSON.stringify([...covered]));
});

const validators = new Map<string, ReturnType<typeof ajv.compile>>();
function validatorFor(key: string, schema: Json) {
  let validate = validators.get(key);
  if (!validate) validators.set(key, (validate = ajv.compile(rebase(schema) as Json)));
  return validate;
}

/** `#/components/...` refs point into the registered document. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi${v}` : rebase(v)]));
}

export class ContractError extends Error {
  override name = 'ContractError';
}

/** Checks one response against the document; throws a ContractError on any difference. */
export function checkResponse(method: string, url: string, status: number, headers: Headers, text: string): void {
  const path = new URL(url).pathname;
  const route = routes.find((r) => r.pattern.test(path));
  const operation = route?.item[(method === 'HEAD' ? 'GET' : method).toLowerCase()];
  if (!operation) return;
  const where = `${method} ${path} → ${status}`;
  const response = operation.responses[String(status)] as Json | undefined;
  if (!response) throw new ContractError(`${where}: status not documented for ${operation.operationId} (${text.slice(0, 200)})`);
  covered.add(`${operation.operationId} ${status}`);
  for (const name of Object.keys(response.headers ?? {})) {
    if (!headers.has(name)) throw new ContractError(`${where}: documented header ${name} missing`);
  }
  const content = response.content as Record<string, { schema: Json }> | undefined;
  if (!content || method === 'HEAD') {
    if (!content && text !== '') throw new ContractError(`${where}: a body where the document says none: ${text.slice(0, 200)}`);
    return;
  }
  const type = (headers.get('content-type') ?? '').split(';')[0]!.trim();
  const media = content[type];
  if (!media) throw new ContractError(`${where}: Content-Type ${type} not documented (${Object.keys(content).join(', ')})`);
  if (type !== 'application/json') return;
  const validate = validatorFor(`${operation.operationId} ${status}`, media.schema);
  if (!validate(JSON.parse(text))) throw new ContractError(`${where}: body does not match the document: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`);
}

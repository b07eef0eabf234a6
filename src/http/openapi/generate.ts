import { z } from 'zod';
import { OPERATION_DOC, STAFF_AREA, type Method, type OperationDoc, type RouteEntry } from '../routing.js';
import { Detail, FieldErrors } from '../routes/schemas.js';

/** What `generateschema` (DRF's options) and `GET /api/schema/` put in the document's head. */
export interface SchemaOptions {
  title?: string;
  version?: string;
  description?: string;
  /** The server URL (DRF's `--url`); default `/`, the host that serves the document. */
  url?: string;
  /** The `Authorization` keyword the server accepts (TOKENLEDGER_KEYWORD). */
  keyword: string;
}

type Json = Record<string, unknown>;

/** A route that has a handler without an OperationDoc: the document would be incomplete. */
export class UndocumentedRouteError extends Error {
  constructor(readonly routes: string[]) {
    super(`routes without an OpenAPI description (wrap the handler in op(doc, handler)): ${routes.join(', ')}`);
    this.name = 'UndocumentedRouteError';
  }
}

const METHODS: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** `/api/users/:username/` → `/api/users/{username}/`, and the names of its parameters. */
function openapiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => (params.push(name), `{${name}}`));
  return { path: converted, params };
}

/** zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect): named schemas go to components, the rest is inline. */
class SchemaSet {
  readonly components: Record<string, Json> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    delete json.$defs;
    delete json.$schema;
    for (const [id, def] of Object.entries(defs)) this.components[id] ??= this.rewrite(def) as Json;
    const rewritten = this.rewrite(json) as Json;
    // A named schema at the top: a component and a reference to it.
    const id = z.globalRegistry.get(schema)?.id;
    if (typeof id === 'string') {
      const { id: _, ...body } = rewritten as Json & { id?: unknown };
      this.components[id] ??= body;
      return { $ref: `#/components/schemas/${id}` };
    }
    return rewritten;
  }

  private rewrite(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.rewrite(v));
    if (value === null || typeof value !== 'object') return value;
    const out: Json = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') out[key] = inner.replace(/^#\/\$defs\//, '#/components/schemas/');
      else if (key === '$schema' || key === '$id' || key === 'id') continue;
      else out[key] = this.rewrite(inner);
    }
    return out;
  }
}

function jsonContent(schema: Json): Json {
  return { 'application/json': { schema } };
}

function headersOf(headers: Record<string, string> | undefined): Json | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
}

/**
 * The OpenAPI 3.1 document of the route table: every resource's documented operations, with what
 * their guards imply (token authentication: 401 and 503; staff: 403) and their request bodies
 * (400, 415) added to what each operation states. Throws UndocumentedRouteError if a handler has
 * no OperationDoc.
 */
export function generateDocument(entries: readonly RouteEntry[], options: SchemaOptions): Json {
  const schemas = new SchemaSet();
  const undocumented: string[] = [];
  const paths: Record<string, Json> = {};
  const detail = () => schemas.convert(Detail, 'output');
  const retryAfter = { 'Retry-After': 'Seconds to wait before trying again.' };

  for (const entry of entries) {
    const { path, params } = openapiPath(entry.path);
    const authenticated = entry.guards.length > 0;
    const area = entry.guards.map((g) => (g as unknown as Record<symbol, string | undefined>)[STAFF_AREA]).find((a) => a !== undefined);
    const item: Json = {};
    for (const method of METHODS) {
      const handler = entry.handlers[method];
      if (!handler) continue;
      const doc: OperationDoc | undefined = handler[OPERATION_DOC];
      if (!doc || !doc.summary) {
        undocumented.push(`${method} ${entry.path}`);
        continue;
      }
      const responses: Record<string, Json> = {};
      const add = (status: number, description: string, schema: Json | undefined, headers?: Record<string, string>, mediaType?: string) => {
        if (responses[status]) return;
        const response: Json = { description };
        if (schema) response.content = { [mediaType ?? 'application/json']: { schema } };
        else if (mediaType) response.content = { [mediaType]: { schema: { type: 'string' } } };
        const h = headersOf(headers);
        if (h) response.headers = h;
        responses[status] = response;
      };
      for (const [status, response] of Object.entries(doc.responses)) {
        add(Number(status), response.description, response.schema ? schemas.convert(response.schema, 'output') : undefined, response.headers, response.mediaType);
      }
      if (doc.body || doc.query) {
        add(400, 'Invalid input: messages by field, as a DRF serializer gives them', { oneOf: [schemas.convert(FieldErrors, 'output'), detail()] });
      }
      if (doc.body) add(415, 'A request body of a media type this operation does not parse', detail());
      if (doc.body) add(413, 'A request body over the size limit', detail());
      if (authenticated) {
        add(401, 'No key, a malformed `Authorization` header, or a key that is not live (DRF\'s messages)', detail(), { 'WWW-Authenticate': `The keyword: \`${options.keyword}\`.` });
        add(403, area ? `Not staff, or a scoped token without \`${area}:${method === 'GET' ? 'read' : 'write'}\`` : 'A scoped token without the scope this route needs', detail());
      }
      if (authenticated || method !== 'GET') add(503, 'The projection or the event store is unavailable (fails closed)', detail(), retryAfter);

      const operation: Json = {
        operationId: doc.operationId,
        summary: doc.summary,
        ...(doc.description ? { description: doc.description } : {}),
        tags: doc.tags,
      };
      const parameters: Json[] = params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
      if (doc.query) {
        const query = schemas.convert(doc.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
        for (const [name, schema] of Object.entries(query.properties ?? {})) {
          parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
        }
      }
      if (parameters.length > 0) operation.parameters = parameters;
      if (doc.body) {
        const schema = schemas.convert(doc.body.schema, 'input');
        const mediaTypes = doc.body.mediaTypes ?? ['application/json'];
        operation.requestBody = { required: true, content: Object.fromEntries(mediaTypes.map((m) => [m, { schema }])) };
      }
      operation.responses = responses;
      // drf-spectacular's way: the scheme on authenticated operations, an empty list on anonymous ones.
      operation.security = authenticated ? [{ tokenAuth: [] }] : [];
      if (area) operation['x-staff-only'] = { staff: true, scopes: [`${area}:${method === 'GET' ? 'read' : 'write'}`] };
      item[method.toLowerCase()] = operation;
    }
    if (Object.keys(item).length > 0) paths[path] = { ...(paths[path] ?? {}), ...item };
  }
  if (undocumented.length > 0) throw new UndocumentedRouteError(undocumented);

  const keyword = options.keyword;
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'tokenledger',
      version: options.version ?? '',
      ...(options.description ? { description: options.description } : {}),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.url ?? '/' }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas.components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        // drf-spectacular's TokenScheme, verbatim but for the configured keyword.
        tokenAuth: { type: 'apiKey', in: 'header', name: 'Authorization', description: `Token-based authentication with required prefix "${keyword}"` },
      },
    },
  };
}

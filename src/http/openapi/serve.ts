import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context, Middleware } from 'koa';
import { stringify } from 'yaml';
import { op, send, type Routes } from '../routing.js';
import { Detail } from '../routes/schemas.js';

/** DRF's media types for its OpenAPI renderers (`OpenAPIRenderer`, `JSONOpenAPIRenderer`). */
export const YAML_TYPE = 'application/vnd.oai.openapi';
export const JSON_TYPE = 'application/vnd.oai.openapi+json';

/** The document as DRF's `generateschema` writes it: YAML (`openapi`, the default) or JSON (`openapi-json`). */
export function renderDocument(document: unknown, format: 'openapi' | 'openapi-json'): string {
  return format === 'openapi-json' ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Which format a request asks for: `?format=` first (DRF's names, or json/yaml), then Accept; YAML by default. */
function formatOf(ctx: Context): 'openapi' | 'openapi-json' | null {
  const asked = ctx.query.format;
  const format = Array.isArray(asked) ? asked.at(-1) : asked;
  if (format !== undefined) {
    if (format === 'openapi-json' || format === 'json') return 'openapi-json';
    if (format === 'openapi' || format === 'yaml') return 'openapi';
    return null;
  }
  const accepted = ctx.accepts(YAML_TYPE, 'application/yaml', JSON_TYPE, 'application/json');
  return accepted === JSON_TYPE || accepted === 'application/json' ? 'openapi-json' : 'openapi';
}

const SWAGGER_ASSETS = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'favicon-16x16.png'] as const;
const ASSET_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', png: 'image/png' };

/** The docs page: Swagger UI from the installed swagger-ui-dist, its initializer ours (no CDN, no validator). */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tokenledger API</title>
<link rel="stylesheet" href="assets/swagger-ui.css">
<link rel="icon" type="image/png" href="assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="assets/swagger-ui-bundle.js"></script>
<script src="assets/init.js"></script>
</body>
</html>
`;

/**
 * The initializer: the document from this server, and nothing from anywhere else: no validator
 * badge (it would send the document to validator.swagger.io), no petstore sample. The Authorize
 * box takes `Token <key>` (drf-spectacular's `apiKey` scheme on the Authorization header).
 */
const INIT = `window.ui = SwaggerUIBundle({
  url: new URL('../schema/?format=openapi-json', document.baseURI).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

export interface SchemaRouteOptions {
  /** The document of the whole route table, made once on first use (every route is registered by then). */
  document: () => unknown;
  /** Empty: anyone may read it; else the guards (authentication, staff) that /api/schema/ and /api/docs/ need. */
  guards: Middleware[];
}

/**
 * `GET /api/schema/` (the OpenAPI document, YAML or JSON) and `GET /api/docs/` (Swagger UI over
 * it), both in the route table and so in the document; the page's assets are served from the
 * installed swagger-ui-dist by `docsAssets()`.
 */
export function schemaRoutes(routes: Routes, options: SchemaRouteOptions): void {
  const rendered = new Map<string, string>();
  const tags = ['schema'];
  routes.resource('/api/schema/', 'Schema', options.guards, {
    GET: op(
      {
        operationId: 'retrieveSchema',
        summary: 'This OpenAPI document',
        description: 'YAML by default, as `tokenledger generateschema` writes it; JSON with `?format=openapi-json` or `Accept: application/vnd.oai.openapi+json`.',
        tags,
        responses: {
          200: { description: 'The document', mediaType: YAML_TYPE },
          404: { description: 'A `format` that is neither openapi nor openapi-json', schema: Detail },
        },
      },
      async (ctx) => {
        const format = formatOf(ctx);
        if (format === null) {
          // DRF's answer to an unknown ?format= (content negotiation finds no renderer).
          send(ctx, 404, { detail: 'Not found.' });
          return;
        }
        let text = rendered.get(format);
        if (text === undefined) rendered.set(format, (text = renderDocument(options.document(), format)));
        ctx.status = 200;
        ctx.set('Content-Type', format === 'openapi' ? `${YAML_TYPE}; charset=utf-8` : JSON_TYPE);
        ctx.body = text;
      },
    ),
  });
  routes.resource('/api/docs/', 'API Docs', options.guards, {
    GET: op(
      { operationId: 'apiDocs', summary: 'Interactive API documentation (Swagger UI)', tags, responses: { 200: { description: 'The page', mediaType: 'text/html' } } },
      async (ctx) => {
        ctx.status = 200;
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = PAGE;
      },
    ),
  });
}

let assetDir: string | null = null;

/** The installed swagger-ui-dist's directory. */
function swaggerDir(): string {
  return (assetDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json')));
}

/** `/api/docs/assets/*`: the few files of swagger-ui-dist the page uses, and our initializer. Anything else falls through. */
export function docsAssets(guard: Middleware | null): Middleware {
  const prefix = '/api/docs/assets/';
  const cache = new Map<string, Buffer>();
  return async (ctx, next) => {
    if (!ctx.path.startsWith(prefix) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const name = ctx.path.slice(prefix.length);
    const serve = async () => {
      if (name === 'init.js') {
        ctx.type = ASSET_TYPES.js!;
        ctx.body = INIT;
        return;
      }
      if (!(SWAGGER_ASSETS as readonly string[]).includes(name)) return next();
      let bytes = cache.get(name);
      if (bytes === undefined) cache.set(name, (bytes = await readFile(join(swaggerDir(), name))));
      ctx.type = ASSET_TYPES[name.split('.').at(-1)!]!;
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.body = bytes;
    };
    return guard ? guard(ctx, serve) : serve();
  };
}

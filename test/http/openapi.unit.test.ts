import { validate, compileErrors } from '@readme/openapi-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { schemaDocument } from '../../src/http/app.js';
import { generateDocument, UndocumentedRouteError } from '../../src/http/openapi/generate.js';
import { renderDocument } from '../../src/http/openapi/serve.js';
import { Routes } from '../../src/http/routing.js';
import { loadSettings } from '../../src/config.js';

// The OpenAPI document of the whole route table, checked by a real validator and by Redocly's
// recommended rules, and kept as a snapshot so any change to it shows in review.
const settings = loadSettings({}, {});
const document = schemaDocument(settings) as any;
const yaml = renderDocument(document, 'openapi');

type Operation = { operationId: string; security: unknown[]; responses: Record<string, any>; requestBody?: any; tags: string[]; summary: string };
const operations = Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
);
const find = (operationId: string) => operations.find((o) => o.operation.operationId === operationId)!;

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (@readme/openapi-parser)', async () => {
    const result = await validate(structuredClone(document));
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid');
  });

  it("passes Redocly's recommended rules, all but no-path-trailing-slash (DRF's paths end in /)", async () => {
    const config = await createConfig({ extends: ['recommended'], rules: { 'no-path-trailing-slash': 'off' } });
    const problems = await lintFromString({ source: yaml, absoluteRef: 'openapi.yaml', config });
    // One warning stays where it is true: these operations answer no 4xx at all (anyone may call
    // them and they take no input), and the document does not invent one.
    const noClientError = ['/healthz', '/readyz', '/metrics', '/api/docs/'].map((path) => `warn operation-4xx-response at #/paths/${path.replaceAll('/', '~1')}/get/responses`);
    expect(problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}`)).toEqual(noClientError);
  });

  it('is the snapshot (review any change to it)', async () => {
    await expect(yaml).toMatchFileSnapshot('__snapshots__/openapi.yaml');
  });

  it('has every operation with a summary, a unique operationId and tags', () => {
    expect(operations.length).toBeGreaterThan(15);
    const ids = operations.map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { operation } of operations) {
      expect(operation.summary).not.toBe('');
      expect(operation.tags.length).toBeGreaterThan(0);
    }
  });

  it('refuses a route table with a route that has no description', () => {
    const routes = new Routes();
    routes.resource('/api/undocumented/', 'Undocumented', [], { GET: async () => {} });
    expect(() => generateDocument(routes.entries, { keyword: 'Token' })).toThrow(UndocumentedRouteError);
    expect(() => generateDocument(routes.entries, { keyword: 'Token' })).toThrow('GET /api/undocumented/');
  });

  it("describes the login as DRF's obtain_auth_token: createAuthToken, three media types, the real 200, every error", () => {
    const { path, method, operation } = find('createAuthToken');
    expect([method, path]).toEqual(['post', '/api-token-auth/']);
    expect(Object.keys(operation.requestBody.content)).toEqual(['application/x-www-form-urlencoded', 'multipart/form-data', 'application/json']);
    expect(operation.security).toEqual([]);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '413', '415', '429', '503']);
    expect(operation.responses['201']).toBeUndefined();
    expect(Object.keys(operation.responses['429'].headers)).toEqual(['Retry-After']);
    expect(Object.keys(operation.responses['503'].headers)).toEqual(['Retry-After']);
    expect(document.components.schemas.AuthToken.properties).toHaveProperty('token');
  });

  it("has drf-spectacular's tokenAuth scheme naming the keyword, on authenticated operations only", () => {
    expect(document.components.securitySchemes).toEqual({
      tokenAuth: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token-based authentication with required prefix "Token"' },
    });
    const bearer = schemaDocument(loadSettings({}, { TOKENLEDGER_KEYWORD: 'Bearer' })) as any;
    expect(bearer.components.securitySchemes.tokenAuth.description).toBe('Token-based authentication with required prefix "Bearer"');
    expect(find('whoami').operation.security).toEqual([{ tokenAuth: [] }]);
    expect(find('whoami').operation.responses['401'].headers).toHaveProperty('WWW-Authenticate');
    for (const id of ['health', 'readiness', 'metrics', 'createAuthToken', 'retrieveSchema', 'apiDocs']) expect(find(id).operation.security).toEqual([]);
    // Staff-only operations say so, with the scope a scoped token needs.
    expect((find('listUsers').operation as any)['x-staff-only']).toEqual({ staff: true, scopes: ['users:read'] });
    expect((find('createToken').operation as any)['x-staff-only']).toEqual({ staff: true, scopes: ['tokens:write'] });
    expect(find('listUsers').operation.responses['403']).toBeDefined();
  });

  it('requires staff on the schema and docs when TOKENLEDGER_SCHEMA_ACCESS=staff', () => {
    const staff = schemaDocument(loadSettings({}, { TOKENLEDGER_SCHEMA_ACCESS: 'staff' })) as any;
    expect(staff.paths['/api/schema/'].get.security).toEqual([{ tokenAuth: [] }]);
    expect(staff.paths['/api/schema/'].get['x-staff-only']).toEqual({ staff: true, scopes: ['schema:read'] });
  });
});

import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Ledger } from '../../app/ledger.js';
import { API_MESSAGES } from '../../domain/drf-messages.js';
import { parseDuration } from '../../domain/duration.js';
import { HttpError } from '../errors.js';
import { keepIssued } from '../../app/tokens.js';
import { readBody } from '../body.js';
import { callerOf, op, send, sendKey, staffOnly, type Routes } from '../routing.js';
import { cursorPageOf, Detail, IssuedToken, ListedToken, listQueryOf } from './schemas.js';
import { validate, validateQuery } from '../validate.js';
import { cursorPage, listParams } from './pagination.js';

const createToken = z.object({
  username: z.string().min(1),
  name: z.string().min(1).optional(),
  reset: z.boolean().optional(),
  expiresIn: z.string().min(1).nullable().optional(),
  scopes: z.array(z.string()).optional(),
  description: z.string().nullable().optional(),
  format: z.enum(['tl', 'drf'], { error: (issue) => `"${String(issue.input)}" is not a valid choice.` }).optional(),
});

const rotateToken = z.object({ grace: z.string().min(1).nullable().optional() });
const revokeToken = z.object({ reason: z.string().nullable().optional() });
const LIST_PARAMS = {
  user: 'text',
  username: 'text',
  name: 'text',
  prefix: 'text',
  status: 'text',
  within: 'text',
  scope: 'text',
  limit: 'integer',
  cursor: 'text',
} as const;

/** The token list's query as the ledger takes it; `username` is the older spelling of `user`. */
function tokenQuery(ctx: Context, fixed: { user?: string } = {}) {
  const p = listParams(ctx, LIST_PARAMS) as Record<string, string | number | undefined>;
  let withinMs: number | undefined;
  if (p.within !== undefined) {
    const ms = parseDuration(String(p.within));
    if (ms === null) throw new HttpError(400, { within: [`"${p.within}" is not a duration (use 7d, 12h, 30m).`] });
    withinMs = ms;
  }
  return {
    user: fixed.user ?? ((p.user ?? p.username) as string | undefined),
    name: p.name as string | undefined,
    keyPrefix: p.prefix as string | undefined,
    status: p.status as never,
    withinMs,
    scope: p.scope as string | undefined,
    limit: p.limit as number | undefined,
    cursor: p.cursor as string | undefined,
  };
}

const TokenPage = cursorPageOf(ListedToken, 'TokenPage');

function params(ctx: Context): { username: string; name: string } {
  return { username: ctx.params.username as string, name: ctx.params.name as string };
}

/**
 * The staff API for tokens, what `tokenledger token …` does. A key appears in exactly one
 * response: the one that created (or rotated) it. A scoped staff token needs `tokens:read` /
 * `tokens:write`.
 */
export function tokenRoutes(routes: Routes, ledger: Ledger, auth: Middleware): void {
  const as = (ctx: Context) => ledger.as(callerOf(ctx));
  const guards = [auth, staffOnly('tokens')];

  routes.resource('/api/tokens/', 'Token List', guards, {
    // `?user=`, `?name=`, `?prefix=` (of the key), `?status=` (current, live, expiring with `?within=7d`,
    // grace, expired, revoked, any), `?scope=`; `?limit=` (1-500, default 50) and `?cursor=`.
    GET: op(
      {
        operationId: 'listTokens',
        summary: 'List tokens',
        description: '`user`, `name`, `prefix` (of the key), `status` (current, live, expiring with `within`, grace, expired, revoked, any), `scope`; cursor pagination (`limit` 1-500, default 50).',
        tags: ['tokens'],
        query: listQueryOf(LIST_PARAMS),
        responses: { 200: { description: 'One page of tokens (never a key)', schema: TokenPage } },
      },
      async (ctx) => send(ctx, 200, cursorPage(ctx, await ledger.listTokens(tokenQuery(ctx)))),
    ),
    POST: op(
      {
        operationId: 'createToken',
        summary: 'Issue a token',
        description: 'What `tokenledger token create` (`drf_create_token`) does. The key is in this response and nowhere else.',
        tags: ['tokens'],
        body: { schema: createToken },
        responses: { 201: { description: 'The key and its token', schema: IssuedToken }, 404: { description: 'No such user', schema: Detail } },
      },
      async (ctx) => {
        const input = validate(createToken, await readBody(ctx, ['application/json']));
        // A key whose projection update failed is still answered: it is in the log, and exists nowhere else.
        sendKey(ctx, 201, await keepIssued(as(ctx).issueToken(input)));
      },
    ),
  });
  routes.resource('/api/tokens/:username/', 'User Tokens', guards, {
    GET: op(
      {
        operationId: 'listUserTokens',
        summary: "List a user's tokens",
        tags: ['tokens'],
        query: listQueryOf(LIST_PARAMS),
        responses: { 200: { description: 'One page of tokens (never a key)', schema: TokenPage } },
      },
      async (ctx) => send(ctx, 200, cursorPage(ctx, await ledger.listTokens(tokenQuery(ctx, { user: params(ctx).username })))),
    ),
    // Revokes every token of the user (`token revoke --all`); `?reason=` goes to the audit log.
    DELETE: op(
      {
        operationId: 'revokeUserTokens',
        summary: 'Revoke every token of a user',
        description: '`reason` goes to the audit log.',
        tags: ['tokens'],
        query: revokeToken,
        responses: { 204: { description: 'Revoked' }, 404: { description: 'No such user', schema: Detail } },
      },
      async (ctx) => {
        const { reason } = validateQuery(revokeToken, ctx.query);
        await as(ctx).revokeToken({ username: params(ctx).username, all: true, reason: reason ?? null });
        send(ctx, 204, null);
      },
    ),
  });
  routes.resource('/api/tokens/:username/:name/', 'Token Detail', guards, {
    GET: op(
      {
        operationId: 'retrieveToken',
        summary: 'Show a token',
        tags: ['tokens'],
        responses: { 200: { description: 'The token (never its key)', schema: ListedToken }, 404: { description: 'No such token', schema: Detail } },
      },
      async (ctx) => {
        const { username, name } = params(ctx);
        const [token] = (await ledger.listTokens({ user: username, name, limit: 1 })).results;
        send(ctx, token ? 200 : 404, token ?? { detail: API_MESSAGES.notFound });
      },
    ),
    DELETE: op(
      {
        operationId: 'revokeToken',
        summary: 'Revoke a token',
        description: 'Its key answers 401 `Invalid token.` from the next request on; `reason` goes to the audit log.',
        tags: ['tokens'],
        query: revokeToken,
        responses: { 204: { description: 'Revoked' }, 404: { description: 'No such token', schema: Detail } },
      },
      async (ctx) => {
        const { reason } = validateQuery(revokeToken, ctx.query);
        await as(ctx).revokeToken({ ...params(ctx), reason: reason ?? null });
        send(ctx, 204, null);
      },
    ),
  });
  routes.resource('/api/tokens/:username/:name/rotate/', 'Rotate Token', guards, {
    POST: op(
      {
        operationId: 'rotateToken',
        summary: 'Rotate a token',
        description: 'A new key; the old one keeps working until `grace` (a duration such as `1h`) has passed.',
        tags: ['tokens'],
        body: { schema: rotateToken },
        responses: { 200: { description: 'The new key and its token', schema: IssuedToken }, 404: { description: 'No such token', schema: Detail } },
      },
      async (ctx) => {
        const input = validate(rotateToken, await readBody(ctx, ['application/json']));
        sendKey(ctx, 200, await keepIssued(as(ctx).rotateToken({ ...params(ctx), grace: input.grace ?? null })));
      },
    ),
  });
}

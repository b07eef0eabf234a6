import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Ledger } from '../../app/ledger.js';
import { API_MESSAGES } from '../../domain/drf-messages.js';
import { keepIssued } from '../../app/tokens.js';
import { readBody } from '../body.js';
import { callerOf, send, staffOnly, type Routes } from '../routing.js';
import { validate, validateQuery } from '../validate.js';

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
const listQuery = z.object({ username: z.string().min(1).optional() });

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
    GET: async (ctx) => send(ctx, 200, await ledger.listTokens(validateQuery(listQuery, ctx.query))),
    POST: async (ctx) => {
      const input = validate(createToken, await readBody(ctx, ['application/json']));
      // A key whose projection update failed is still answered: it is in the log, and exists nowhere else.
      send(ctx, 201, await keepIssued(as(ctx).issueToken(input)));
    },
  });
  routes.resource('/api/tokens/:username/', 'User Tokens', guards, {
    GET: async (ctx) => send(ctx, 200, await ledger.listTokens({ username: params(ctx).username })),
    // Revokes every token of the user (`token revoke --all`); `?reason=` goes to the audit log.
    DELETE: async (ctx) => {
      const { reason } = validateQuery(revokeToken, ctx.query);
      await as(ctx).revokeToken({ username: params(ctx).username, all: true, reason: reason ?? null });
      send(ctx, 204, null);
    },
  });
  routes.resource('/api/tokens/:username/:name/', 'Token Detail', guards, {
    GET: async (ctx) => {
      const { username, name } = params(ctx);
      const token = (await ledger.listTokens({ username })).find((t) => t.name === name);
      send(ctx, token ? 200 : 404, token ?? { detail: API_MESSAGES.notFound });
    },
    DELETE: async (ctx) => {
      const { reason } = validateQuery(revokeToken, ctx.query);
      await as(ctx).revokeToken({ ...params(ctx), reason: reason ?? null });
      send(ctx, 204, null);
    },
  });
  routes.resource('/api/tokens/:username/:name/rotate/', 'Rotate Token', guards, {
    POST: async (ctx) => {
      const input = validate(rotateToken, await readBody(ctx, ['application/json']));
      send(ctx, 200, await keepIssued(as(ctx).rotateToken({ ...params(ctx), grace: input.grace ?? null })));
    },
  });
}

import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { loadUser } from '../../app/execute.js';
import type { Ledger } from '../../app/ledger.js';
import { userView } from '../../app/users.js';
import { readBody } from '../body.js';
import { API_MESSAGES, FIELD_MESSAGES } from '../../domain/drf-messages.js';
import { detail } from '../errors.js';
import { callerOf, send, staffOnly, type Routes } from '../routing.js';
import { validate } from '../validate.js';
import { cursorPage, listParams } from './pagination.js';

// Not trimmed (passwords never are), but all-blank is refused as `user create` refuses it.
const password = z.string().refine((p) => p.trim() !== '', FIELD_MESSAGES.blank);

const createUser = z.object({
  username: z.string().min(1),
  password: password.nullable().optional(),
  isStaff: z.boolean().optional(),
  isSuperuser: z.boolean().optional(),
});

const setPassword = z.object({ password: password.nullable() });

function username(ctx: Context): string {
  return ctx.params.username as string;
}

/**
 * The staff API for users, what `tokenledger user …` does: list, create, show, deactivate,
 * activate, set the password. A scoped staff token needs `users:read` / `users:write`.
 */
export function userRoutes(routes: Routes, ledger: Ledger, auth: Middleware): void {
  const as = (ctx: Context) => ledger.as(callerOf(ctx));
  const guards = [auth, staffOnly('users')];

  routes.resource('/api/users/', 'User List', guards, {
    // `?search=` (substring) / `?prefix=` of the username, case-insensitive; `?active=`, `?staff=`;
    // `?limit=` (1-500, default 50) and `?cursor=`; sorted by username.
    GET: async (ctx) => {
      const p = listParams(ctx, { search: 'text', prefix: 'text', active: 'boolean', staff: 'boolean', limit: 'integer', cursor: 'text' });
      const page = await ledger.listUsers({
        search: p.search as string | undefined,
        prefix: p.prefix as string | undefined,
        active: p.active as boolean | undefined,
        staff: p.staff as boolean | undefined,
        limit: p.limit as number | undefined,
        cursor: p.cursor as string | undefined,
      });
      send(ctx, 200, cursorPage(ctx, page));
    },
    POST: async (ctx) => {
      const input = validate(createUser, await readBody(ctx, ['application/json']));
      send(ctx, 201, await as(ctx).registerUser({ ...input, password: input.password ?? null }));
    },
  });
  routes.resource('/api/users/:username/', 'User Detail', guards, {
    GET: async (ctx) => {
      const state = await loadUser(ledger.deps, username(ctx));
      if (!state.exists) throw detail(404, API_MESSAGES.notFound);
      send(ctx, 200, userView(state));
    },
  });
  routes.resource('/api/users/:username/deactivate/', 'Deactivate User', guards, {
    POST: async (ctx) => send(ctx, 200, (await as(ctx).deactivateUser(username(ctx))).user),
  });
  routes.resource('/api/users/:username/activate/', 'Activate User', guards, {
    POST: async (ctx) => send(ctx, 200, (await as(ctx).activateUser(username(ctx))).user),
  });
  routes.resource('/api/users/:username/password/', 'Set Password', guards, {
    POST: async (ctx) => {
      const input = validate(setPassword, await readBody(ctx, ['application/json']));
      send(ctx, 200, await as(ctx).setPassword(username(ctx), input.password));
    },
  });
}

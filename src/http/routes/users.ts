import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { loadUser } from '../../app/execute.js';
import type { Ledger } from '../../app/ledger.js';
import { userView } from '../../app/users.js';
import { readBody } from '../body.js';
import { API_MESSAGES, FIELD_MESSAGES } from '../../domain/drf-messages.js';
import { detail } from '../errors.js';
import { callerOf, op, send, staffOnly, type Routes } from '../routing.js';
import { cursorPageOf, Detail, listQueryOf, UserView } from './schemas.js';
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

const USER_PARAMS = { search: 'text', prefix: 'text', active: 'boolean', staff: 'boolean', limit: 'integer', cursor: 'text' } as const;

function username(ctx: Context): string {
  return ctx.params.username as string;
}

/**
 * The staff API for users, what `tokenledger user …` does: list, create, show, delete, deactivate,
 * activate, set the password. A scoped staff token needs `users:read` / `users:write`.
 */
export function userRoutes(routes: Routes, ledger: Ledger, auth: Middleware): void {
  const as = (ctx: Context) => ledger.as(callerOf(ctx));
  const guards = [auth, staffOnly('users')];

  routes.resource('/api/users/', 'User List', guards, {
    // `?search=` (substring) / `?prefix=` of the username, case-insensitive; `?active=`, `?staff=`;
    // `?limit=` (1-500, default 50) and `?cursor=`; sorted by username.
    GET: op(
      {
        operationId: 'listUsers',
        summary: 'List users',
        description: '`search` (substring) or `prefix` of the username, case-insensitive; `active`, `staff`; sorted by username; cursor pagination (`limit` 1-500, default 50).',
        tags: ['users'],
        query: listQueryOf(USER_PARAMS),
        responses: { 200: { description: 'One page of users', schema: cursorPageOf(UserView, 'UserPage') } },
      },
      async (ctx) => {
      const p = listParams(ctx, USER_PARAMS);
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
    ),
    POST: op(
      {
        operationId: 'createUser',
        summary: 'Create a user',
        description: 'What `tokenledger user create` does; a null or absent password makes a user for tokens only.',
        tags: ['users'],
        body: { schema: createUser },
        responses: { 201: { description: 'The user', schema: UserView } },
      },
      async (ctx) => {
        const input = validate(createUser, await readBody(ctx, ['application/json']));
        send(ctx, 201, await as(ctx).registerUser({ ...input, password: input.password ?? null }));
      },
    ),
  });
  routes.resource('/api/users/:username/', 'User Detail', guards, {
    GET: op(
      {
        operationId: 'retrieveUser',
        summary: 'Show a user',
        tags: ['users'],
        responses: { 200: { description: 'The user', schema: UserView }, 404: { description: 'No such user', schema: Detail } },
      },
      async (ctx) => {
        const state = await loadUser(ledger.deps, username(ctx));
        if (!state.exists) throw detail(404, API_MESSAGES.notFound);
        send(ctx, 200, userView(state));
      },
    ),
    // Erasure (docs/privacy.md): tokens dead when the 204 leaves, personal data shredded, username reserved.
    DELETE: op(
      {
        operationId: 'destroyUser',
        summary: 'Delete a user for good',
        description:
          'Their tokens stop working at once; their personal data in the log (username, password hashes, client addresses, ' +
          'token descriptions) becomes unreadable; the username stays reserved. A deleted user is a 404 (docs/privacy.md).',
        tags: ['users'],
        responses: { 204: { description: 'Deleted' }, 404: { description: 'No such user', schema: Detail } },
      },
      async (ctx) => {
        const { deleted } = await as(ctx).deleteUser(username(ctx));
        // Deleting a deleted user is a 404, as for any user that is not there (it still finishes the shred).
        if (!deleted) throw detail(404, API_MESSAGES.notFound);
        send(ctx, 204, null);
      },
    ),
  });
  routes.resource('/api/users/:username/deactivate/', 'Deactivate User', guards, {
    POST: op(
      {
        operationId: 'deactivateUser',
        summary: 'Deactivate a user',
        description: 'Their keys answer 401 `User inactive or deleted.` until they are activated again.',
        tags: ['users'],
        responses: { 200: { description: 'The user', schema: UserView }, 404: { description: 'No such user', schema: Detail } },
      },
      async (ctx) => send(ctx, 200, (await as(ctx).deactivateUser(username(ctx))).user),
    ),
  });
  routes.resource('/api/users/:username/activate/', 'Activate User', guards, {
    POST: op(
      {
        operationId: 'activateUser',
        summary: 'Activate a user',
        tags: ['users'],
        responses: { 200: { description: 'The user', schema: UserView }, 404: { description: 'No such user', schema: Detail } },
      },
      async (ctx) => send(ctx, 200, (await as(ctx).activateUser(username(ctx))).user),
    ),
  });
  routes.resource('/api/users/:username/password/', 'Set Password', guards, {
    POST: op(
      {
        operationId: 'setUserPassword',
        summary: "Set a user's password",
        description: 'A null password removes it (tokens only, no login).',
        tags: ['users'],
        body: { schema: setPassword },
        responses: { 200: { description: 'The user', schema: UserView }, 404: { description: 'No such user', schema: Detail } },
      },
      async (ctx) => {
        const input = validate(setPassword, await readBody(ctx, ['application/json']));
        send(ctx, 200, await as(ctx).setPassword(username(ctx), input.password));
      },
    ),
  });
}

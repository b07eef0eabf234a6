import type { Context } from 'koa';
import type { Ledger } from '../../app/ledger.js';
import { DomainError } from '../../domain/errors.js';
import { callerOf, op, send, userOf } from '../routing.js';
import { WhoAmI } from './schemas.js';

/** `GET /api/whoami/`: who the presented token belongs to, and which token it is. */
export const whoami = op(
  {
    operationId: 'whoami',
    summary: 'Who the presented key belongs to',
    description: 'The user and the token the request came in with.',
    tags: ['session'],
    responses: { 200: { description: 'The key\'s user and token', schema: WhoAmI } },
  },
  async (ctx: Context): Promise<void> => {
    const { user, auth } = userOf(ctx);
    send(ctx, 200, {
      username: user.username,
      token: { name: auth.name, expiry: auth.expiresAt?.toISOString() ?? null, scopes: auth.scopes },
      isStaff: user.isStaff,
      isSuperuser: user.isSuperuser,
    });
  },
);

/**
 * `POST /auth/logout/` (Knox): revokes the token the request came with. It returns once the
 * projection reflects the revocation, so the key is dead for this server when the 204 leaves.
 */
export function logout(ledger: Ledger) {
  const doc = {
    operationId: 'logout',
    summary: 'Revoke the presented key',
    description: "Knox's logout: the key is dead for this server when the 204 leaves.",
    tags: ['session'],
    responses: { 204: { description: 'Revoked' } },
  };
  return op(doc, async (ctx: Context): Promise<void> => {
    const { user, auth } = userOf(ctx);
    try {
      await ledger.as(callerOf(ctx)).revokeToken({ username: user.username, name: auth.name, reason: 'logout' });
    } catch (error) {
      // A concurrent logout (or revoke) already killed it: the outcome the caller wanted.
      if (!(error instanceof DomainError && error.code === 'token_not_found')) throw error;
    }
    send(ctx, 204, null);
  });
}

/** `POST /auth/logoutall/` (Knox): revokes every token of the user, login or named. */
export function logoutAll(ledger: Ledger) {
  const doc = {
    operationId: 'logoutAll',
    summary: "Revoke every token of the key's user",
    description: "Knox's logoutall: login tokens and named ones.",
    tags: ['session'],
    responses: { 204: { description: 'Revoked' } },
  };
  return op(doc, async (ctx: Context): Promise<void> => {
    const { user } = userOf(ctx);
    await ledger.as(callerOf(ctx)).revokeToken({ username: user.username, all: true, reason: 'logout all' });
    send(ctx, 204, null);
  });
}

import { digestKey, generateKey, keyPrefixOf, type TokenFormat, type TokenKind, type TokenState } from '../domain/index.js';
import type { LoginRate, PresentUser, UserState } from '../domain/index.js';
import type { Actor, Caller, LedgerDeps } from './context.js';
import { execute, type LoadedUser } from './execute.js';
import type { Executed, IssuedToken, TokenView } from './results.js';
import { ExecutedBehindError, KeyIssuedBehindError } from './behind.js';
import { requireMayActOn, requireMayRevoke, requireScopesWithin, requireStaff } from './privileges.js';
import { boundedScopes, boundedText, parse, parseDurationInput, scopeSchema, tokenNameSchema, usernameSchema } from './validation.js';

/** A token as it may be shown (see TokenView). */
export function tokenView(username: string, token: TokenState): TokenView {
  return {
    username,
    tokenId: token.tokenId,
    name: token.name,
    kind: token.kind,
    format: token.format,
    keyPrefix: token.keyPrefix,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastRotatedAt: token.lastRotatedAt,
    graceUntil: token.previous?.graceUntil ?? null,
    scopes: token.scopes,
    description: token.description,
  };
}

export interface IssueTokenInput {
  username: string;
  name?: string;
  reset?: boolean;
  /** A duration such as `90d`; `0` or absent: no expiry. */
  expiresIn?: string | null;
  /** Or an absolute lifetime in ms (logins use this). */
  ttlMs?: number | null;
  scopes?: string[];
  description?: string | null;
  format?: TokenFormat;
  kind?: TokenKind;
  loginLimit?: number | null;
  loginRate?: LoginRate | null;
}

/**
 * A new key is in the log once its event is: if the projection then fails to catch up, the key
 * and its token go with the error (KeyIssuedBehindError), or the key would be lost for good.
 */
async function executeKeeping(username: string, name: string, key: () => string, executing: Promise<Executed>): Promise<Executed> {
  try {
    return await executing;
  } catch (error) {
    if (error instanceof ExecutedBehindError) {
      const { state } = error.executed;
      throw new KeyIssuedBehindError(error, { key: key(), token: tokenView(username, (state as PresentUser).tokens[name]!) });
    }
    throw error;
  }
}

/**
 * For a caller that answers a new key as issued even when the projection is behind (the HTTP API:
 * the token is in the log and works once the projection catches up; an error would lose the key).
 */
export async function keepIssued(issuing: Promise<IssuedToken>): Promise<IssuedToken> {
  try {
    return await issuing;
  } catch (error) {
    if (error instanceof KeyIssuedBehindError) return error.issued;
    throw error;
  }
}

/** Issues a token for `input.username` as `caller` may: staff, scopes within its own, and a superuser for privileged accounts. */
export async function issueToken(deps: LedgerDeps, caller: Caller, input: IssueTokenInput): Promise<IssuedToken> {
  requireStaff(caller, 'tokens');
  requireScopesWithin(caller, scopesOf(input));
  return issueTokenUnchecked(deps, caller, input, undefined, (state) => requireMayActOn(caller, state, 'issue a token for'));
}

function scopesOf(input: IssueTokenInput): string[] {
  return [...new Set(boundedScopes(input.scopes).map((s) => parse(scopeSchema, s, 'scope')))];
}

/**
 * Issues without privilege rules, for the application's own use: a login issues its user a token
 * on the strength of the password it just checked. `authorize` runs on the state the command is
 * decided on.
 */
export async function issueTokenUnchecked(
  deps: LedgerDeps,
  actor: Actor,
  input: IssueTokenInput,
  loaded?: LoadedUser,
  authorize: (state: UserState) => void = () => {},
): Promise<IssuedToken> {
  const username = parse(usernameSchema, input.username, 'username');
  const name = parse(tokenNameSchema, input.name ?? 'default', 'name');
  const scopes = scopesOf(input);
  const description = boundedText(input.description, 'description');
  const ttl = input.ttlMs ?? (input.expiresIn ? parseDurationInput(input.expiresIn, 'expires-in') : 0);
  const format = input.format ?? 'tl';
  const key = generateKey(format, deps.tokenPrefix, deps.random);
  const tokenId = deps.newId();
  const { state } = await executeKeeping(username, name, () => key, execute(deps, username, actor, (now, current) => {
    authorize(current);
    return {
    type: 'IssueToken',
    data: {
      tokenId,
      name,
      kind: input.kind ?? 'named',
      format,
      digest: digestKey(key),
      keyPrefix: keyPrefixOf(key),
      scopes,
      description,
      expiresAt: ttl > 0 ? new Date(Date.parse(now) + ttl).toISOString() : null,
      reset: input.reset ?? false,
      loginLimit: input.loginLimit ?? null,
      loginRate: input.loginRate ?? null,
      now,
    },
  };
  }, { loaded }));
  return { key, token: tokenView(username, (state as PresentUser).tokens[name]!) };
}

export interface RotateTokenInput {
  username: string;
  name?: string;
  grace?: string | null;
}

/** Rotation hands out a new key with the token's scopes: the same rules as issuing it. */
export async function rotateToken(deps: LedgerDeps, caller: Caller, input: RotateTokenInput): Promise<IssuedToken> {
  requireStaff(caller, 'tokens');
  const username = parse(usernameSchema, input.username, 'username');
  const name = parse(tokenNameSchema, input.name ?? 'default', 'name');
  const graceMs = input.grace ? parseDurationInput(input.grace, 'grace') : 0;
  let key = '';
  const { state } = await executeKeeping(
    username,
    name,
    () => key,
    execute(deps, username, caller, (now, current) => {
      requireMayActOn(caller, current, 'rotate a token of');
      const token = current.exists ? current.tokens[name] : undefined;
      if (token) requireScopesWithin(caller, token.scopes);
      // A rotated key keeps the format of the token it replaces (a DRF key stays a DRF key).
      const format = (current.exists && current.tokens[name]?.format) || 'tl';
      key = generateKey(format, deps.tokenPrefix, deps.random);
      return { type: 'RotateToken', data: { name, digest: digestKey(key), keyPrefix: keyPrefixOf(key), graceMs, now } };
    }),
  );
  return { key, token: tokenView(username, (state as PresentUser).tokens[name]!) };
}

export interface RevokeTokenInput {
  username: string;
  name?: string;
  all?: boolean;
  reason?: string | null;
}

/**
 * Revokes one token (by name, `default` when none is given) or all of a user's tokens. A caller
 * revokes one of its own tokens freely (Knox's logout) and all of them with an unscoped token or
 * `auth:logoutall` (logoutall); anyone else's need staff work rights. A secret in its grace
 * period revokes nothing.
 */
export async function revokeToken(deps: LedgerDeps, caller: Caller, input: RevokeTokenInput): Promise<{ revoked: string[] }> {
  const username = parse(usernameSchema, input.username, 'username');
  const name = input.all ? null : parse(tokenNameSchema, input.name ?? 'default', 'name');
  const reason = boundedText(input.reason, 'reason');
  requireMayRevoke(caller, username, input.all ?? false);
  const { events } = await execute(deps, username, caller, (now, current) => {
    requireMayActOn(caller, current, 'revoke the tokens of');
    return { type: 'RevokeToken', data: { name, all: input.all ?? false, reason, now } };
  });
  return { revoked: events.flatMap((e) => (e.type === 'TokenRevoked' ? [e.data.name] : [])) };
}

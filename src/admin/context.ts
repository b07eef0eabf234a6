import type { Context } from 'koa';
import type { Actor, Caller } from '../app/context.js';
import type { Ledger } from '../app/ledger.js';
import type { LoginGate } from '../http/login-gate.js';
import type { KeyLookup } from '../auth/verify.js';
import { clientAddress } from '../http/routing.js';
import { takeFlash } from './flash.js';
import { renderPage } from './views.js';

/** What the console runs on: the serve app's ledger, projection (for sessions) and login gate (throttle and password-work caps). */
export interface AdminDeps {
  ledger: Ledger;
  projection: KeyLookup;
  gate: LoginGate;
  tokenPrefix: string;
  /** Lifetime of a session token in ms. */
  sessionTtlMs: number;
  /** A session is a login token: TOKENLEDGER_LOGIN_LIMIT and TOKENLEDGER_LOGIN_RATE bound sign-ins as they bound API logins. */
  loginLimit?: number | null;
  loginRate?: { limit: number; windowMs: number } | null;
  /** Epoch milliseconds. */
  clock: () => number;
  /** Bound on one session lookup (TOKENLEDGER_LOOKUP_TIMEOUT when set); default 1 s. */
  lookupTimeoutMs?: number;
}

/** The signed-in staff member, from the session cookie's token. */
export interface Session {
  username: string;
  isSuperuser: boolean;
  tokenId: string;
  /** The session token's name (`admin-session-…`): sign-out revokes it. */
  name: string;
  /** The CSRF token every form of this session carries. */
  csrf: string;
}

/** The prefix of session token names, so that `token list` shows them for what they are. */
export const SESSION_NAME_PREFIX = 'admin-session';

/** Who a console request acts as: the staff member, channel `admin`, from the client address, the request id as correlation id. */
export function callerOf(ctx: Context, username: string): Actor {
  return { actor: username, channel: 'admin', source: clientAddress(ctx), correlationId: ctx.state.requestId as string };
}

/**
 * The signed-in staff member as a caller, with their privileges: staff (only staff sign in), a
 * superuser or not, and the session token's rights (unscoped, never a superseded secret). The
 * privilege rules of src/app apply to the console as to every channel.
 */
export function sessionCaller(ctx: Context, session: Session): Caller {
  return { ...callerOf(ctx, session.username), username: session.username, isStaff: true, isSuperuser: session.isSuperuser, scopes: null, inGrace: false };
}

/** The ledger acting for the signed-in staff member. */
export function ledgerFor(deps: AdminDeps, ctx: Context, session: Session): Ledger {
  return deps.ledger.as(sessionCaller(ctx, session));
}

export interface Crumb {
  label: string;
  href?: string;
}

/** An ISO time as the tables show it: `2026-01-31 12:00:00` (UTC), short enough for a column. */
export function when(iso: unknown): string {
  return typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '';
}

/** Renders a console page: the layout gets the session, the CSRF token and the flash message. */
export function page(ctx: Context, name: string, data: Record<string, unknown>, status = 200): void {
  const session = ctx.state.adminSession as Session | undefined;
  renderPage(ctx, status, name, { when, session: session ?? null, csrf: session?.csrf ?? ctx.state.preCsrf ?? '', flash: takeFlash(ctx), errors: [], breadcrumbs: [], ...data });
}

/** A redirect as an exception, so that a guard deep in a handler can send the browser elsewhere. */
export class Redirect extends Error {
  constructor(readonly location: string) {
    super(`redirect to ${location}`);
  }
}

/** A refusal shown as an error page (CSRF failure, missing object). */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** The first value of a form field, '' when absent. */
export function field(form: Map<string, string[]>, name: string): string {
  return form.get(name)?.[0] ?? '';
}

/** A domain error's message without the CLI's `field: ` prefix. */
export function messageOf(error: { message: string }): string {
  return error.message.replace(/^[a-z][a-z-]*: /, '');
}

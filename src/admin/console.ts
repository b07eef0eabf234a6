import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { DomainError } from '../app/errors.js';
import { keyVerifier } from '../auth/verify.js';
import { ALL_MEDIA_TYPES, readBody, type FormData } from '../http/body.js';
import { HttpError, toHttp } from '../http/errors.js';
import { clientAddress } from '../http/routing.js';
import { ASSETS } from './assets.js';
import { PageError, Redirect, SESSION_NAME_PREFIX, callerOf, field, page, sessionCaller, type AdminDeps, type Session } from './context.js';
import { setFlash } from './flash.js';
import { historyPages } from './history.js';
import {
  ADMIN_PATH,
  CSRF_COOKIE,
  CSRF_FIELD,
  CSRF_HEADER,
  SESSION_COOKIE,
  cookieOptions,
  crossOriginReason,
  newCsrfCookieValue,
  sameSecret,
  sessionCsrf,
  setSecurityHeaders,
} from './security.js';
import { listPages } from './lists.js';
import { tokenPages } from './tokens.js';
import { userPages } from './users.js';

export type { AdminDeps } from './context.js';

/** Django's sentence for any refused admin sign-in. */
export const STAFF_LOGIN_ERROR =
  'Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.';

const FORM_TYPES = ALL_MEDIA_TYPES.filter((t) => t !== 'application/json');

/** A page handler; `form` is the parsed body of a POST (after the CSRF check). */
export type PageHandler = (ctx: Context, session: Session, form: FormData) => Promise<void>;

/** Where a sign-in may send the browser afterwards: a console path, never another site. */
function safeNext(next: string): string {
  return next.startsWith(ADMIN_PATH) && !next.startsWith('//') && !/[\\\s]/.test(next) && !next.startsWith('/admin/login/') ? next : ADMIN_PATH;
}

/** The console's router and its guards. */
export class Console {
  readonly router = new Router({ strict: true });
  private readonly verify;

  constructor(readonly deps: AdminDeps) {
    this.verify = keyVerifier({ projection: deps.projection, tokenPrefix: deps.tokenPrefix, clock: deps.clock, lookupTimeoutMs: deps.lookupTimeoutMs ?? 1_000 });
  }

  /**
   * The session of the request: the cookie's key must be a live `admin-session-…` token (current
   * secret, not a superseded one) of an active staff user, looked up in the projection as any key
   * is, so a revoked token or a deactivated user ends the session on the next request.
   */
  async session(ctx: Context): Promise<Session | null> {
    const key = ctx.cookies.get(SESSION_COOKIE);
    if (!key) return null;
    const result = await this.verify(key, []);
    if (result.kind === 'unavailable') throw new PageError(503, 'Service unavailable', 'The token store cannot be reached; try again in a moment.');
    if (result.kind !== 'valid') return null;
    const { record } = result;
    if (!record.name.startsWith(`${SESSION_NAME_PREFIX}-`) || !record.isStaff || !record.active || record.graceUntil !== null) return null;
    return { username: record.username, isSuperuser: record.isSuperuser, tokenId: record.tokenId, name: record.name, csrf: sessionCsrf(key) };
  }

  signedInOrRedirect(ctx: Context): Promise<Session> {
    return this.signedIn(ctx);
  }

  private async signedIn(ctx: Context): Promise<Session> {
    const session = await this.session(ctx);
    if (!session) {
      if (ctx.cookies.get(SESSION_COOKIE)) ctx.cookies.set(SESSION_COOKIE, null, cookieOptions(ctx));
      const next = ctx.method === 'GET' ? ctx.originalUrl : ADMIN_PATH;
      throw new Redirect(`/admin/login/?next=${encodeURIComponent(next)}`);
    }
    ctx.state.adminSession = session;
    // For the access log's user column.
    ctx.state.user = { username: session.username };
    return session;
  }

  /** Refuses a state-changing request from another origin, before anything else is read. */
  private sameOrigin(ctx: Context): void {
    const reason = crossOriginReason(ctx);
    if (reason) throw new PageError(403, 'Forbidden', `CSRF verification failed. Request aborted. (${reason})`);
  }

  private static csrfGiven(ctx: Context, form: FormData): string | undefined {
    return field(form, CSRF_FIELD) || ctx.get(CSRF_HEADER) || undefined;
  }

  private static async form(ctx: Context): Promise<FormData> {
    const body = await readBody(ctx, FORM_TYPES);
    return body.kind === 'form' ? body.fields : new Map();
  }

  /** A page for signed-in staff. */
  get(path: string, handler: PageHandler): void {
    this.router.get(path, async (ctx) => {
      const session = await this.signedIn(ctx as unknown as Context);
      await handler(ctx as unknown as Context, session, new Map());
    });
  }

  /** A change by signed-in staff: same origin, a session, the session's CSRF token; then the handler. */
  post(path: string, handler: PageHandler): void {
    this.router.post(path, async (raw) => {
      const ctx = raw as unknown as Context;
      this.sameOrigin(ctx);
      const session = await this.signedIn(ctx);
      const form = await Console.form(ctx);
      if (!sameSecret(Console.csrfGiven(ctx, form), session.csrf)) {
        throw new PageError(403, 'Forbidden', 'CSRF verification failed. Request aborted. (CSRF token missing or incorrect)');
      }
      await handler(ctx, session, form);
    });
  }

  /** Sign-in and sign-out, the home page and the assets. */
  mountSession(): void {
    const { deps } = this;
    this.router.get('/admin/static/:file', async (ctx) => {
      const asset = ASSETS[ctx.params.file as string];
      if (!asset) throw new PageError(404, 'Not found', 'No such file.');
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.type = asset.type;
      ctx.body = asset.body;
    });

    this.router.get('/admin/login/', async (raw) => {
      const ctx = raw as unknown as Context;
      const next = safeNext(String(ctx.query.next ?? ''));
      if (await this.session(ctx)) throw new Redirect(next);
      this.loginForm(ctx, { next });
    });

    this.router.post('/admin/login/', async (raw) => {
      const ctx = raw as unknown as Context;
      this.sameOrigin(ctx);
      const form = await Console.form(ctx);
      if (!sameSecret(Console.csrfGiven(ctx, form), ctx.cookies.get(CSRF_COOKIE))) {
        throw new PageError(403, 'Forbidden', 'CSRF verification failed. Request aborted. (CSRF cookie or token missing or incorrect)');
      }
      const username = field(form, 'username').trim();
      const password = field(form, 'password');
      const next = safeNext(field(form, 'next'));
      const address = clientAddress(ctx);
      const { gate } = deps;
      const tooMany = (waitMs: number) => {
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        ctx.set('Retry-After', String(seconds));
        this.loginForm(ctx, { next, username, errors: [`Too many failed sign-ins. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`] }, 429);
      };
      const wait = await gate.wait(address);
      if (wait > 0) return tooMany(wait);
      // The same gate as POST /api-token-auth/: one throttle and one cap on password work for both.
      const result = await gate.login(deps.ledger.deps, callerOf(ctx, username), address, { username, password }, {
        ttlMs: deps.sessionTtlMs,
        // Sign-ins add to the user's stream as API logins do: the same per-user bounds (H2).
        limit: deps.loginLimit ?? null,
        rate: deps.loginRate ?? null,
        namePrefix: SESSION_NAME_PREFIX,
        admits: (user) => user.isStaff,
      });
      if (!result.ok) {
        if (result.reason === 'throttled') return tooMany(result.waitMs);
        if (result.reason === 'rate_limited') {
          const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
          ctx.set('Retry-After', String(seconds));
          return this.loginForm(ctx, { next, username, errors: [`Too many sign-ins for this account. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`] }, 429);
        }
        if (result.reason === 'busy') {
          ctx.set('Retry-After', '1');
          return this.loginForm(ctx, { next, username, errors: ['The service is busy checking passwords; try again in a moment.'] }, 503);
        }
        return this.loginForm(ctx, { next, username, errors: [STAFF_LOGIN_ERROR] });
      }
      ctx.cookies.set(SESSION_COOKIE, result.issued.key, cookieOptions(ctx, deps.sessionTtlMs));
      ctx.cookies.set(CSRF_COOKIE, null, cookieOptions(ctx));
      throw new Redirect(next);
    });

    this.router.post('/admin/logout/', async (raw) => {
      const ctx = raw as unknown as Context;
      this.sameOrigin(ctx);
      const session = await this.session(ctx);
      const form = await Console.form(ctx);
      if (session) {
        if (!sameSecret(Console.csrfGiven(ctx, form), session.csrf)) {
          throw new PageError(403, 'Forbidden', 'CSRF verification failed. Request aborted. (CSRF token missing or incorrect)');
        }
        await deps.ledger.as(sessionCaller(ctx, session)).revokeToken({ username: session.username, name: session.name, reason: 'signed out' });
      }
      ctx.cookies.set(SESSION_COOKIE, null, cookieOptions(ctx));
      setFlash(ctx, { level: 'success', message: 'Signed out. Thanks for spending some quality time with the console today.' });
      throw new Redirect('/admin/login/');
    });
  }

  private loginForm(ctx: Context, data: { next: string; username?: string; errors?: string[] }, status = 200): void {
    let token = ctx.cookies.get(CSRF_COOKIE);
    if (!token || token.length < 32) {
      token = newCsrfCookieValue();
      ctx.cookies.set(CSRF_COOKIE, token, cookieOptions(ctx));
    }
    ctx.state.preCsrf = token;
    page(ctx, '@login', { title: 'Sign in', username: '', errors: [], ...data }, status);
  }
}

/** Answers an error as a console page: no stack trace, no JSON. Unexpected errors go to the log. */
function answer(ctx: Context, error: unknown): void {
  if (error instanceof Redirect) {
    ctx.status = 303;
    ctx.redirect(error.location);
    ctx.status = 303;
    return;
  }
  if (error instanceof PageError) return page(ctx, '@error', { title: error.title, message: error.message }, error.status);
  if (error instanceof DomainError) {
    const code = error.code as string;
    const status = code === 'user_not_found' || code === 'token_not_found' ? 404 : code === 'permission_denied' ? 403 : 400;
    const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Not done';
    return page(ctx, '@error', { title, message: error.message }, status);
  }
  const { response, unexpected } = toHttp(error);
  if (unexpected) ctx.state.error = error;
  const message =
    error instanceof HttpError || !unexpected ? String((response.body as { detail?: unknown }).detail ?? 'The request was refused.') : 'Something went wrong on our side; it was logged.';
  ctx.set(response.headers);
  page(ctx, '@error', { title: response.status >= 500 ? 'Server error' : 'Refused', message }, response.status);
}

/**
 * The admin console (`/admin/…`) as one Koa middleware placed before the API's routes: every
 * response under /admin/ carries the console's security headers and `Cache-Control: no-store`
 * (assets excepted); everything else passes through.
 */
export function adminConsole(deps: AdminDeps): Middleware & { routeTable(): { path: string; methods: string[] }[] } {
  const console = new Console(deps);
  console.mountSession();
  listPages(console);
  userPages(console);
  tokenPages(console);
  historyPages(console);
  const routes = console.router.routes() as unknown as Middleware;
  const middleware = async (ctx: Context, next: Next) => {
    if (ctx.path !== '/admin' && !ctx.path.startsWith(ADMIN_PATH)) return next();
    setSecurityHeaders(ctx);
    ctx.set('Cache-Control', 'no-store');
    try {
      if (ctx.path === '/admin') throw new Redirect(ADMIN_PATH);
      await routes(ctx, async () => {
        // As Django's admin: an address that is no page says so only to signed-in staff.
        await console.signedInOrRedirect(ctx);
        throw new PageError(404, 'Not found', 'There is no page at this address.');
      });
      if (ctx.status === 405 || (ctx.status === 404 && ctx.body === undefined)) throw new PageError(ctx.status, ctx.status === 405 ? 'Method not allowed' : 'Not found', 'There is no page at this address.');
    } catch (error) {
      answer(ctx, error);
    }
  };
  // The console's pages for the app's route table (the fuzz suite sends requests to every one).
  const routeTable = () => console.router.stack.map((layer) => ({ path: String(layer.path), methods: [...layer.methods] }));
  return Object.assign(middleware, { routeTable });
}

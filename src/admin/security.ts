import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/** Django's names: the form field and header that carry the CSRF token, and the pre-session cookie. */
export const CSRF_FIELD = 'csrfmiddlewaretoken';
export const CSRF_HEADER = 'X-CSRFToken';
export const CSRF_COOKIE = 'csrftoken';
/** The session cookie: it holds the session token's key, so it is HttpOnly and never leaves /admin/. */
export const SESSION_COOKIE = 'tl_admin_session';
export const FLASH_COOKIE = 'tl_admin_flash';

/** The admin console's part of the URL space; cookies are scoped to it. */
export const ADMIN_PATH = '/admin/';

/**
 * The console's CSP: nothing inline (no script, no style attribute runs), every asset from this
 * origin, no framing, forms post only here.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers every console response carries (pages and assets). */
export function setSecurityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
}

/** Cookie attributes of the issue: HttpOnly, SameSite=Strict, Path=/admin/, Secure over TLS (ctx.secure honours trusted proxies). */
export function cookieOptions(ctx: Context, maxAgeMs?: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: ADMIN_PATH,
    secure: ctx.secure,
    overwrite: true,
    ...(maxAgeMs === undefined ? {} : { maxAge: maxAgeMs }),
  };
}

/** The CSRF token of a session: derived from its key, so it changes with the session and needs no server state. */
export function sessionCsrf(sessionKey: string): string {
  return createHmac('sha256', sessionKey).update('tokenledger admin csrf').digest('base64url');
}

/** A fresh pre-session CSRF token for the sign-in form (double-submit cookie). */
export function newCsrfCookieValue(): string {
  return randomBytes(32).toString('base64url');
}

export function sameSecret(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** This server's origin as the browser sees it (scheme and host through trusted proxies). */
export function ownOrigin(ctx: Context): string {
  return `${ctx.protocol}://${ctx.host}`;
}

/**
 * Why a state-changing request is not same-origin, or null when it is: `Origin` must name this
 * origin; a browser that sends no `Origin` must say `Sec-Fetch-Site: same-origin`. A request with
 * neither is refused (every browser sends one of them on a POST).
 */
export function crossOriginReason(ctx: Context): string | null {
  const origin = ctx.get('Origin');
  const site = ctx.get('Sec-Fetch-Site');
  if (site !== '' && site !== 'same-origin') return `Sec-Fetch-Site is ${site}`;
  if (origin !== '') return origin === ownOrigin(ctx) ? null : 'Origin does not match';
  if (site === 'same-origin') return null;
  return 'no Origin header';
}

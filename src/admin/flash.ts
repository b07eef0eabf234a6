import type { Context } from 'koa';
import { FLASH_COOKIE, cookieOptions } from './security.js';

/** A one-time message carried across a redirect (Django's messages): never a secret, escaped when shown. */
export interface Flash {
  level: 'success' | 'error';
  message: string;
}

export function setFlash(ctx: Context, flash: Flash): void {
  ctx.cookies.set(FLASH_COOKIE, Buffer.from(JSON.stringify(flash), 'utf8').toString('base64url'), cookieOptions(ctx, 60_000));
}

/** Reads and clears the flash message, if any. */
export function takeFlash(ctx: Context): Flash | null {
  const raw = ctx.cookies.get(FLASH_COOKIE);
  if (!raw) return null;
  ctx.cookies.set(FLASH_COOKIE, null, cookieOptions(ctx));
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Flash>;
    if (typeof value.message !== 'string') return null;
    return { level: value.level === 'error' ? 'error' : 'success', message: value.message.slice(0, 500) };
  } catch {
    return null;
  }
}

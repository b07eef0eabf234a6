import type { Context } from 'koa';
import { DomainError } from '../app/errors.js';
import { keepIssued } from '../app/tokens.js';
import type { IssuedToken } from '../app/results.js';
import type { TokenFormat } from '../domain/index.js';
import type { Console } from './console.js';
import { PageError, Redirect, field, ledgerFor, messageOf, page } from './context.js';
import { setFlash } from './flash.js';
import { presentUser, userPath } from './users.js';
import { findUsers } from './lists.js';

function tokenPath(username: string, name: string): string {
  return `${userPath(username)}tokens/${encodeURIComponent(name)}/`;
}

/**
 * The one response that ever holds a key: rendered in answer to the POST that made it, never
 * redirected to, never stored (`Cache-Control: no-store`, as every console page).
 */
function keyOnce(ctx: Context, heading: string, issued: IssuedToken): void {
  ctx.set('Cache-Control', 'no-store');
  page(ctx, '@keyOnce', {
    title: heading,
    heading,
    key: issued.key,
    token: issued.token,
    graceUntil: issued.token.graceUntil,
  });
}

/** Tokens: add one for a user (picked by search), rotate, revoke, revoke all; each change behind a POST, the last three behind a confirmation page. */
export function tokenPages(console: Console): void {
  const { deps } = console;
  const crumbs = (last: string) => [{ label: 'Tokens', href: '/admin/tokens/' }, { label: last }];

  const addForm = (ctx: Context, data: Record<string, unknown>, status = 200) =>
    page(
      ctx,
      '@tokenAdd',
      { title: 'Add token', breadcrumbs: crumbs('Add token'), q: '', matches: [], user: '', name: '', expiresIn: '', scopes: '', format: 'tl', description: '', ...data },
      status,
    );

  console.get('/admin/tokens/add/', async (ctx) => {
    const user = String(ctx.query.user ?? '');
    if (user !== '') {
      const found = await presentUser(console, user);
      return addForm(ctx, { user: found.username });
    }
    const q = String(ctx.query.q ?? '').trim();
    addForm(ctx, { q, matches: q === '' ? [] : await findUsers(console, q, 20) });
  });

  console.post('/admin/tokens/add/', async (ctx, session, form) => {
    const input = {
      user: field(form, 'user'),
      name: field(form, 'name').trim(),
      expiresIn: field(form, 'expires_in').trim(),
      scopes: field(form, 'scopes').trim(),
      format: field(form, 'format') === 'drf' ? ('drf' as TokenFormat) : ('tl' as TokenFormat),
      description: field(form, 'description'),
    };
    let issued: IssuedToken;
    try {
      issued = await keepIssued(
        ledgerFor(deps, ctx, session).issueToken({
          username: input.user,
          name: input.name,
          expiresIn: input.expiresIn === '' ? null : input.expiresIn,
          scopes: input.scopes === '' ? [] : input.scopes.split(/[\s,]+/),
          format: input.format,
          description: input.description.trim() === '' ? null : input.description,
        }),
      );
    } catch (error) {
      if (!(error instanceof DomainError) || error.code === 'user_not_found' || (error.code as string) === 'permission_denied') throw error;
      const message = error.code === 'token_exists' ? 'This user already has a token with this name.' : messageOf(error);
      return addForm(ctx, { ...input, errors: [message] }, 400);
    }
    keyOnce(ctx, 'Token created', issued);
  });

  const confirmPage = (ctx: Context, data: Record<string, unknown>, status = 200) => page(ctx, '@confirm', { fields: [], ...data }, status);

  /** The confirmation page of an action on one token (rotate, revoke): 404 for a token the user does not have. */
  const confirmTokenAction = (
    action: 'rotate' | 'revoke',
    text: { title: string; question: (name: string, username: string) => string; field: { name: string; label: string; help: string }; submit: string },
  ) =>
    console.get(`/admin/users/:username/tokens/:name/${action}/`, async (ctx) => {
      const user = await presentUser(console, ctx.params.username as string);
      const name = ctx.params.name as string;
      if (!user.tokens[name]) throw new PageError(404, 'Not found', `User “${user.username}” has no token “${name}”.`);
      confirmPage(ctx, {
        title: text.title,
        breadcrumbs: [{ label: 'Users', href: '/admin/users/' }, { label: user.username, href: userPath(user.username) }, { label: text.title }],
        question: text.question(name, user.username),
        action: `${tokenPath(user.username, name)}${action}/`,
        fields: [{ ...text.field, value: '' }],
        submit: text.submit,
        cancel: userPath(user.username),
      });
    });

  confirmTokenAction('rotate', {
    title: 'Rotate token',
    question: (name, username) => `Rotate token “${name}” of ${username}? A new key replaces the current one; the new key is shown once.`,
    field: { name: 'grace', label: 'Grace period', help: 'How long the current key keeps working (for example 1h or 7d); empty: it stops at once.' },
    submit: 'Yes, rotate',
  });

  console.post('/admin/users/:username/tokens/:name/rotate/', async (ctx, session, form) => {
    const username = ctx.params.username as string;
    const name = ctx.params.name as string;
    const grace = field(form, 'grace').trim();
    const issued = await keepIssued(ledgerFor(deps, ctx, session).rotateToken({ username, name, grace: grace === '' ? null : grace }));
    keyOnce(ctx, 'Token rotated', issued);
  });

  confirmTokenAction('revoke', {
    title: 'Revoke token',
    question: (name, username) => `Revoke token “${name}” of ${username}? Its key stops working at once; this cannot be undone.`,
    field: { name: 'reason', label: 'Reason', help: 'Kept in the log with the revocation.' },
    submit: 'Yes, revoke',
  });

  console.post('/admin/users/:username/tokens/:name/revoke/', async (ctx, session, form) => {
    const username = ctx.params.username as string;
    const name = ctx.params.name as string;
    const reason = field(form, 'reason').trim();
    await ledgerFor(deps, ctx, session).revokeToken({ username, name, reason: reason === '' ? null : reason });
    setFlash(ctx, { level: 'success', message: `Token “${name}” of ${username} was revoked.` });
    throw new Redirect(userPath(username));
  });

  console.get('/admin/users/:username/revoke-all/', async (ctx) => {
    const user = await presentUser(console, ctx.params.username as string);
    confirmPage(ctx, {
      title: 'Revoke all tokens',
      breadcrumbs: [{ label: 'Users', href: '/admin/users/' }, { label: user.username, href: userPath(user.username) }, { label: 'Revoke all tokens' }],
      question: `Revoke all ${Object.keys(user.tokens).length} tokens of ${user.username}, console sessions included? Every key stops working at once.`,
      action: `${userPath(user.username)}revoke-all/`,
      fields: [{ name: 'reason', label: 'Reason', value: '', help: 'Kept in the log with each revocation.' }],
      submit: 'Yes, revoke all',
      cancel: userPath(user.username),
    });
  });

  console.post('/admin/users/:username/revoke-all/', async (ctx, session, form) => {
    const username = ctx.params.username as string;
    const reason = field(form, 'reason').trim();
    const { revoked } = await ledgerFor(deps, ctx, session).revokeToken({ username, all: true, reason: reason === '' ? null : reason });
    setFlash(ctx, { level: 'success', message: `${revoked.length} token${revoked.length === 1 ? '' : 's'} of ${username} revoked.` });
    throw new Redirect(userPath(username));
  });
}

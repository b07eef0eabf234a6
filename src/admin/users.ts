import type { Context } from 'koa';
import { loadUser } from '../app/execute.js';
import { DomainError } from '../app/errors.js';
import { tokenView } from '../app/tokens.js';
import { userView } from '../app/users.js';
import { type PresentUser } from '../domain/index.js';
import type { Console } from './console.js';
import { PageError, Redirect, field, ledgerFor, messageOf, page, type Session } from './context.js';
import { setFlash } from './flash.js';
import { eventJson, userHistory } from './history.js';

/** The CLI's password messages (`user create`, `user passwd`). */
export const PASSWORD_MESSAGES = {
  blank: "Blank passwords aren't allowed.",
  mismatch: "Your passwords didn't match.",
};

export function userPath(username: string): string {
  return `/admin/users/${encodeURIComponent(username)}/`;
}

/** The user a page is about, or a 404 page. */
export async function presentUser(console: Console, username: string): Promise<PresentUser> {
  const state = await loadUser(console.deps.ledger.deps, username);
  if (!state.exists) throw new PageError(404, 'Not found', `There is no user “${username}”.`);
  return state;
}

/** A token row: what the lists show, with its status now. */
export function tokenRow(username: string, token: PresentUser['tokens'][string], nowIso: string) {
  const view = tokenView(username, token);
  const status = view.expiresAt !== null && view.expiresAt <= nowIso ? 'expired' : view.graceUntil !== null && view.graceUntil > nowIso ? 'grace' : 'live';
  return { ...view, status };
}

/** The new password from a two-field form, or the CLI's message for why not. */
function newPassword(form: Map<string, string[]>): { password: string } | { error: string } {
  const first = field(form, 'password1');
  if (first.trim() === '') return { error: PASSWORD_MESSAGES.blank };
  if (field(form, 'password2') !== first) return { error: PASSWORD_MESSAGES.mismatch };
  return { password: first };
}

const HISTORY_ON_USER_PAGE = 50;

async function userPage(console: Console, ctx: Context, user: PresentUser, errors: string[] = [], status = 200): Promise<void> {
  const now = new Date(console.deps.clock()).toISOString();
  const history = await userHistory(console, user.username, HISTORY_ON_USER_PAGE);
  const tokens = Object.values(user.tokens)
    .map((t) => tokenRow(user.username, t, now))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  page(
    ctx,
    '@user',
    {
      title: `User ${user.username}`,
      breadcrumbs: [{ label: 'Users', href: '/admin/users/' }, { label: user.username }],
      user: userView(user),
      tokens,
      events: history.events,
      moreEvents: history.more,
      json: eventJson,
      errors,
    },
    status,
  );
}

/** Users: add (two steps, as Django's UserAdmin), the user's page with its switches, tokens and history, delete (behind a confirmation page), and the password form. */
export function userPages(console: Console): void {
  const { deps } = console;

  const addForm = (ctx: Context, data: Record<string, unknown> = {}, status = 200) =>
    page(ctx, '@userAdd', { title: 'Add user', breadcrumbs: [{ label: 'Users', href: '/admin/users/' }, { label: 'Add user' }], username: '', usable: true, ...data }, status);

  console.get('/admin/users/add/', async (ctx) => addForm(ctx));

  console.post('/admin/users/add/', async (ctx, session, form) => {
    const username = field(form, 'username').trim();
    const usable = field(form, 'usable_password') !== 'false';
    let password: string | null = null;
    if (usable) {
      const chosen = newPassword(form);
      if ('error' in chosen) return addForm(ctx, { username, usable, errors: [chosen.error] }, 400);
      password = chosen.password;
    }
    try {
      await ledgerFor(deps, ctx, session).registerUser({ username, password });
    } catch (error) {
      if (!(error instanceof DomainError) || (error.code as string) === 'permission_denied') throw error;
      const message = error.code === 'user_exists' ? 'A user with that username already exists.' : messageOf(error);
      return addForm(ctx, { username, usable, errors: [message] }, 400);
    }
    setFlash(ctx, { level: 'success', message: `The user “${username}” was added successfully. You may edit it again below.` });
    throw new Redirect(userPath(username));
  });

  console.get('/admin/users/:username/', async (ctx) => {
    await userPage(console, ctx, await presentUser(console, ctx.params.username as string));
  });

  // The switches: active, staff, superuser (superuser only for superusers). Each change is an event.
  console.post('/admin/users/:username/', async (ctx, session, form) => {
    const user = await presentUser(console, ctx.params.username as string);
    const ledger = ledgerFor(deps, ctx, session);
    const active = field(form, 'is_active') === 'on';
    const isStaff = field(form, 'is_staff') === 'on';
    const flags: { isStaff?: boolean; isSuperuser?: boolean } = {};
    if (isStaff !== user.isStaff) flags.isStaff = isStaff;
    if (form.has('is_superuser') || session.isSuperuser) {
      const isSuperuser = field(form, 'is_superuser') === 'on';
      if (isSuperuser !== user.isSuperuser) {
        if (!session.isSuperuser) return userPage(console, ctx, user, ['Only a superuser may change superuser status.'], 403);
        flags.isSuperuser = isSuperuser;
      }
    }
    if (active !== user.active) await (active ? ledger.activateUser(user.username) : ledger.deactivateUser(user.username));
    if (Object.keys(flags).length > 0) await ledger.setUserFlags(user.username, flags);
    setFlash(ctx, { level: 'success', message: `The user “${user.username}” was changed successfully.` });
    throw new Redirect(userPath(user.username));
  });

  // Delete: behind a confirmation page, as rotate and revoke. The privilege rules (src/app) decide; a refusal is the 403 page.
  console.get('/admin/users/:username/delete/', async (ctx) => {
    const user = await presentUser(console, ctx.params.username as string);
    page(ctx, '@confirm', {
      title: 'Delete user',
      breadcrumbs: [{ label: 'Users', href: '/admin/users/' }, { label: user.username, href: userPath(user.username) }, { label: 'Delete user' }],
      question: `Delete user ${user.username}? Every token of the user stops working at once; the user's personal data (password hash, token descriptions, revoke reasons, addresses) is erased; the username stays reserved and cannot be registered again. This cannot be undone.`,
      action: `${userPath(user.username)}delete/`,
      fields: [],
      submit: 'Yes, delete',
      cancel: userPath(user.username),
    });
  });

  console.post('/admin/users/:username/delete/', async (ctx, session) => {
    const user = await presentUser(console, ctx.params.username as string);
    await ledgerFor(deps, ctx, session).deleteUser(user.username);
    setFlash(ctx, { level: 'success', message: `The user “${user.username}” was deleted.` });
    throw new Redirect('/admin/users/');
  });

  const passwordForm = (ctx: Context, user: PresentUser, session: Session, errors: string[] = [], status = 200) =>
    page(
      ctx,
      '@password',
      {
        title: `Password of ${user.username}`,
        breadcrumbs: [{ label: 'Users', href: '/admin/users/' }, { label: user.username, href: userPath(user.username) }, { label: 'Password' }],
        username: user.username,
        hasPassword: user.passwordHash !== null,
        errors,
        session,
      },
      status,
    );

  console.get('/admin/users/:username/password/', async (ctx, session) => {
    passwordForm(ctx, await presentUser(console, ctx.params.username as string), session);
  });

  console.post('/admin/users/:username/password/', async (ctx, session, form) => {
    const user = await presentUser(console, ctx.params.username as string);
    const ledger = ledgerFor(deps, ctx, session);
    if (field(form, 'action') === 'disable') {
      await ledger.setPassword(user.username, null);
      setFlash(ctx, { level: 'success', message: 'Password-based authentication was disabled.' });
    } else {
      const chosen = newPassword(form);
      if ('error' in chosen) return passwordForm(ctx, user, session, [chosen.error], 400);
      await ledger.setPassword(user.username, chosen.password);
      setFlash(ctx, { level: 'success', message: 'Password changed successfully.' });
    }
    throw new Redirect(userPath(user.username));
  });
}

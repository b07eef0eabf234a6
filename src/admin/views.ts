import type { Context } from 'koa';
import { Eta } from 'eta/core';
import { TEMPLATES } from './templates.js';

/** The one Eta instance: escaping on (the default, stated here so nobody turns it off by accident). */
const eta = new Eta({ autoEscape: true, autoTrim: false, cache: true, useWith: false });
for (const [name, text] of Object.entries(TEMPLATES)) eta.loadTemplate(name, text);

/** Renders template `name` with `data` and answers it as an HTML page with `status`. */
export function renderPage(ctx: Context, status: number, name: string, data: Record<string, unknown>): void {
  const html = eta.render(name, data);
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { auditList, auditQuery } from '../../app/audit/history.js';
import type { Ledger } from '../../app/ledger.js';
import { op, send, staffOnly, type Routes } from '../routing.js';
import { AuditPage } from './schemas.js';
import { validateQuery } from '../validate.js';

const MAX_PAGE = 1_000;

const query = z.object({
  user: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
  since: z.string().min(1).optional(),
  until: z.string().min(1).optional(),
  after: z.string().regex(/^\d{1,18}$/, 'A valid integer is required.').optional(),
  limit: z.coerce.number({ error: () => 'A valid integer is required.' }).int().min(1).max(MAX_PAGE).optional(),
});

/** The query string of the next page: the same filters, `after` moved to the page's last event. */
function nextUrl(ctx: Context, position: number): string {
  const params = new URLSearchParams(ctx.querystring);
  params.set('after', String(position));
  return `${ctx.protocol}://${ctx.host}${ctx.path}?${params}`;
}

/**
 * `GET /api/audit/`: the history, filtered by user, token, type (comma-separated) and time
 * (`since`/`until`: ISO, or a duration ago such as `1h`), in log order, one page at a time
 * (`limit`, default 100; `next` is the URL of the following page, null on the last one).
 */
export function auditRoutes(routes: Routes, ledger: Ledger, auth: Middleware): void {
  routes.resource('/api/audit/', 'Audit Log', [auth, staffOnly('audit')], {
    GET: op(
      {
        operationId: 'listAuditEvents',
        summary: 'Read the audit log',
        description: 'Filtered by user, token, type (comma-separated) and time (`since`/`until`: ISO, or a duration ago such as `1h`), in log order, one page at a time.',
        tags: ['audit'],
        query,
        responses: { 200: { description: 'One page of events', schema: AuditPage } },
      },
      async (ctx) => {
      const input = validateQuery(query, ctx.query);
      const limit = input.limit ?? 100;
      const filter = auditQuery({ ...input, type: input.type?.split(',').map((t) => t.trim()), limit: limit + 1 }, ledger.deps.clock());
      // One more than the page holds says whether a next page exists.
      const streams = await ledger.auditStreams(filter);
      const found = await auditList(ledger.store, { ...filter, streams, after: BigInt(input.after ?? 0) });
      const results = found.slice(0, limit);
      send(ctx, 200, { next: found.length > limit ? nextUrl(ctx, results.at(-1)!.position) : null, results });
      },
    ),
  });
}

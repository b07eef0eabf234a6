import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { AUDIT_PAGE_SCAN, auditPage, auditQuery } from '../../app/audit/history.js';
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
 * (`limit`, default 100; `next` is the URL of the following page, null on the last one). A page
 * reads at most AUDIT_PAGE_SCAN events: when the filters match rarely it may hold fewer than
 * `limit` (even none), and `next` goes on from where it stopped.
 */
export function auditRoutes(routes: Routes, ledger: Ledger, auth: Middleware): void {
  routes.resource('/api/audit/', 'Audit Log', [auth, staffOnly('audit')], {
    GET: op(
      {
        operationId: 'listAuditEvents',
        summary: 'Read the audit log',
        description: `Filtered by user, token, type (comma-separated) and time (\`since\`/\`until\`: ISO, or a duration ago such as \`1h\`), in log order, one page at a time. A page reads at most ${AUDIT_PAGE_SCAN.toLocaleString('en-US')} events: when the filters match rarely it may hold fewer than \`limit\` events, even none; follow \`next\` until it is null.`,
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
      const page = await auditPage(ledger.store, { ...filter, streams, after: BigInt(input.after ?? 0), limit: limit + 1 });
      const results = page.entries.slice(0, limit);
      // A full page goes on after its last event; a page cut short by the reading limit, from where the reading stopped.
      const next = page.entries.length > limit ? results.at(-1)!.position : page.end ? null : page.reached;
      send(ctx, 200, { next: next === null ? null : nextUrl(ctx, Number(next)), results });
      },
    ),
  });
}

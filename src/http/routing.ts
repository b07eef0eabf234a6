import { isIP } from 'node:net';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { z } from 'zod';
import type { Actor, Caller } from '../app/context.js';
import type { AuthInfo, AuthUser } from '../koa/index.js';
import { MESSAGES } from '../domain/drf-messages.js';
import { HttpError, detail } from './errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One entry of the route table: a path as routed (`:name` for a parameter) and the methods it answers. */
export interface RouteInfo {
  path: string;
  methods: string[];
}
export type Handler = (ctx: Context) => Promise<void>;

/** Django's order of methods in `Allow` (`View.http_method_names`); HEAD comes with GET. */
const ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** A JSON response with DRF's exact `Content-Type: application/json`. */
export function send(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  if (body === null) return;
  ctx.set('Content-Type', 'application/json');
  ctx.body = body;
}

/**
 * A response that carries a key: never stored by a cache or a browser (RFC 6749 §5.1's
 * `Cache-Control: no-store`, and `Pragma: no-cache` for HTTP/1.0 caches).
 */
export function sendKey(ctx: Context, status: number, body: unknown): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  send(ctx, status, body);
}

/** The user a guarded route runs for (tokenAuth put it there). */
export function userOf(ctx: Context): { user: AuthUser; auth: AuthInfo } {
  return { user: ctx.state.user as AuthUser, auth: ctx.state.auth as AuthInfo };
}

/**
 * The client's address: the socket's, or with TOKENLEDGER_TRUSTED_PROXIES, the one the outermost
 * trusted proxy put in `X-Forwarded-For` (Koa's `ctx.ip`) if it is an IP address at all; anything
 * else there is ignored for the socket's (review L5). Without proxies it skips `ctx.ip`'s header
 * parsing, which every request paid for. Worked out once per request (requestFrame asks first,
 * while the socket is surely there).
 */
export function clientAddress(ctx: Context): string {
  const known = ctx.state.clientAddress as string | undefined;
  if (known !== undefined) return known;
  const socket = ctx.req.socket?.remoteAddress ?? '';
  let address = socket;
  if (ctx.app.proxy) {
    const forwarded = ctx.request.ips[0];
    if (forwarded !== undefined && isIP(forwarded) !== 0) address = forwarded;
  }
  ctx.state.clientAddress = address;
  return address;
}

/** Who an HTTP call acts as, for the events it appends: channel `http`, from the client address. */
export function actorOf(ctx: Context): Actor {
  const user = ctx.state.user as AuthUser | undefined;
  return { actor: user?.username ?? 'anonymous', channel: 'http', source: clientAddress(ctx), correlationId: ctx.state.requestId as string };
}

/** Who an authenticated HTTP call acts as, with what it may do: the token's user and scopes. */
export function callerOf(ctx: Context): Caller {
  const { user, auth } = userOf(ctx);
  return {
    ...actorOf(ctx),
    username: user.username,
    isStaff: user.isStaff,
    isSuperuser: user.isSuperuser,
    scopes: auth.scopes.length > 0 ? auth.scopes : null,
    inGrace: auth.inGrace,
  };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What a guard requires, read by the OpenAPI generator (src/http/openapi): staff, and which scope area. */
export const STAFF_AREA = Symbol('staffArea');

/**
 * Staff only. A token that carries scopes must also carry `<area>:read` for safe methods or
 * `<area>:write` for the others (a token without scopes may do anything, as a DRF token can).
 * Anyone else gets DRF's 403.
 */
export function staffOnly(area: string): Middleware {
  const read = `${area}:read`;
  const write = `${area}:write`;
  const guard = async (ctx: Context, next: Next) => {
    const { user, auth } = userOf(ctx);
    const scope = SAFE.has(ctx.method) ? read : write;
    if (!user?.isStaff || (auth.scopes.length > 0 && !auth.scopes.includes(scope))) throw detail(403, MESSAGES.forbidden);
    await next();
  };
  return Object.assign(guard, { [STAFF_AREA]: area });
}

/** One response of an operation, as the OpenAPI document states it. */
export interface ResponseDoc {
  description: string;
  /** The JSON body; absent for an empty body (204) or a non-JSON one. */
  schema?: z.ZodType;
  /** A body that is not JSON (the Prometheus text of /metrics). */
  mediaType?: string;
  /** Headers it carries: name → what they say. */
  headers?: Record<string, string>;
}

/**
 * What an operation is, for the OpenAPI document: written beside its handler (`op(doc, handler)`),
 * with the zod schemas the handler validates with. The generator adds what the guards and the
 * request body imply (401, 403, 400, 415, 503) to `responses`.
 */
export interface OperationDoc {
  operationId: string;
  /** One line; required: a route without it fails test/http/openapi.int.test.ts. */
  summary: string;
  description?: string;
  tags: string[];
  /** The request body, and the media types it may come in (default JSON only). */
  body?: { schema: z.ZodType; mediaTypes?: readonly string[] };
  /** Query-string parameters. */
  query?: z.ZodObject;
  responses: Record<number, ResponseDoc>;
}

/** The key under which a handler carries its OperationDoc. */
export const OPERATION_DOC = Symbol('operationDoc');

export type DocumentedHandler = Handler & { [OPERATION_DOC]?: OperationDoc };

/** A handler with its description for the OpenAPI document. */
export function op(doc: OperationDoc, handler: Handler): DocumentedHandler {
  return Object.assign(handler, { [OPERATION_DOC]: doc });
}

/** One resource of the table, as registered: what the OpenAPI generator reads. */
export interface RouteEntry {
  path: string;
  name: string;
  guards: readonly Middleware[];
  handlers: Partial<Record<Method, DocumentedHandler>>;
  parses: readonly string[];
}

/** Runs `middleware` in order, then `last`: a fixed chain, composed once. */
function chain(middleware: Middleware[], last: Handler): Handler {
  return middleware.reduceRight<Handler>((next, mw) => (ctx) => mw(ctx, () => next(ctx)) as Promise<void>, last);
}

/**
 * The routing table. Paths without parameters (every hot path: /api/whoami/, the login, health)
 * are found with one Map lookup; paths with parameters go through @koa/router. Paths are
 * matched exactly, trailing slash included, as DRF's URLs are.
 */
export class Routes {
  private readonly exact = new Map<string, Handler>();
  private readonly router = new Router({ strict: true });
  /** Every resource, in the order registered. */
  readonly entries: RouteEntry[] = [];

  /** Every resource and the methods it answers (HEAD and OPTIONS included), in the order registered. */
  list(): RouteInfo[] {
    return this.entries.map((entry) => {
      const methods = Object.keys(entry.handlers);
      const allowed = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
      return { path: entry.path, methods: ORDER.filter((m) => allowed.includes(m)) };
    });
  }

  /**
   * One resource: its guards (authentication, permissions) run first for every method, as DRF
   * checks them before it looks for a handler; then the method's handler (HEAD runs GET), or 405
   * naming the method with an `Allow` header, or the OPTIONS answer.
   */
  resource(path: string, name: string, guards: Middleware[], handlers: Partial<Record<Method, Handler>>, parses = ['application/json']): void {
    this.entries.push({ path, name, guards, handlers, parses });
    const methods = Object.keys(handlers) as Method[];
    const allowed = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
    const allow = ORDER.filter((m) => allowed.includes(m)).join(', ');
    const dispatch: Handler = (ctx) => {
      const handler = handlers[(ctx.method === 'HEAD' ? 'GET' : ctx.method) as Method];
      if (handler) return handler(ctx);
      ctx.set('Allow', allow);
      if (ctx.method === 'OPTIONS') {
        send(ctx, 200, { name, description: '', renders: ['application/json'], parses });
        return Promise.resolve();
      }
      return Promise.reject(new HttpError(405, { detail: `Method "${ctx.method}" not allowed.` }, { Allow: allow }));
    };
    const handle = chain(guards, dispatch);
    if (path.includes(':')) this.router.all(path, (ctx) => handle(ctx as unknown as Context));
    else this.exact.set(path, handle);
  }

  /** The table as one Koa middleware. */
  middleware(): Middleware {
    const routed = this.router.routes() as unknown as Middleware;
    return (ctx, next) => {
      const handle = this.exact.get(ctx.path);
      return handle ? handle(ctx) : routed(ctx, next);
    };
  }
}

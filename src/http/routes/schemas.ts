import { z } from 'zod';

/*
 * The response bodies of the HTTP API as zod schemas, registered by id: the OpenAPI document's
 * components (src/http/openapi), and what test/http/contract.ts checks every response against.
 * Request bodies are the schemas the routes validate with, beside them.
 */

const timestamp = z.string().meta({ format: 'date-time' });

/** DRF's `{"detail": "…"}`. */
export const Detail = z.object({ detail: z.string() }).meta({ id: 'Detail', description: 'An error, in DRF\'s words.' });

/** DRF's serializer errors: each field's messages under its name, whole-body ones under `non_field_errors`. */
export const FieldErrors = z
  .record(z.string(), z.array(z.string()))
  .meta({ id: 'FieldErrors', description: 'Messages by field name (DRF serializer errors); errors about the whole body are under `non_field_errors`.' });

export const TokenView = z
  .object({
    username: z.string(),
    tokenId: z.string(),
    name: z.string(),
    kind: z.enum(['named', 'login']),
    format: z.enum(['tl', 'drf']),
    keyPrefix: z.string().meta({ description: 'The first 8 characters of the key; never the key.' }),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    lastRotatedAt: timestamp.nullable(),
    graceUntil: timestamp.nullable(),
    scopes: z.array(z.string()),
    description: z.string().nullable(),
  })
  .meta({ id: 'Token' });

/** A token as the lists show it: its status at the time of the request. */
export const ListedToken = TokenView.extend({
  status: z.enum(['live', 'grace', 'expired', 'revoked']),
  revokedAt: timestamp.nullable(),
}).meta({ id: 'ListedToken' });

/** DRF's CursorPagination answer: the URLs of the pages around this one, null at either end. */
export function cursorPageOf(item: z.ZodType, id: string) {
  return z.object({ next: z.string().nullable(), previous: z.string().nullable(), results: z.array(item) }).meta({ id });
}

/** A list's query parameters (pagination.ts's `ParamKind` record) as a zod object, for the document. */
export function listQueryOf(accepted: Record<string, 'text' | 'boolean' | 'integer'>) {
  const kinds = { text: z.string(), boolean: z.boolean(), integer: z.number().int() };
  return z.object(Object.fromEntries(Object.entries(accepted).map(([name, kind]) => [name, kinds[kind].optional()])));
}

export const IssuedToken = z
  .object({ key: z.string().meta({ description: 'The key, shown this once and stored nowhere.' }), token: TokenView })
  .meta({ id: 'IssuedToken' });

export const UserView = z
  .object({
    userId: z.string(),
    username: z.string(),
    active: z.boolean(),
    isStaff: z.boolean(),
    isSuperuser: z.boolean(),
    hasPassword: z.boolean(),
    createdAt: timestamp,
    tokens: z.number().int().meta({ description: 'Live tokens.' }),
  })
  .meta({ id: 'User' });

/** What `POST /api-token-auth/` answers: DRF's `{"token": …}`, with Knox's expiry beside it. */
export const AuthToken = z
  .object({ token: z.string(), expiry: timestamp.nullable() })
  .meta({ id: 'AuthToken', description: "DRF's obtain_auth_token answer; `expiry` as Knox's login gives it." });

/** DRF's AuthTokenSerializer fields, as sent. */
export const AuthTokenRequest = z
  .object({ username: z.string().meta({ writeOnly: true }), password: z.string().meta({ writeOnly: true }) })
  .meta({ id: 'AuthTokenRequest' });

export const WhoAmI = z
  .object({
    username: z.string(),
    token: z.object({ name: z.string(), expiry: timestamp.nullable(), scopes: z.array(z.string()) }),
    isStaff: z.boolean(),
    isSuperuser: z.boolean(),
  })
  .meta({ id: 'WhoAmI' });

export const AuditEvent = z
  .object({
    position: z.number().int(),
    streamId: z.string(),
    revision: z.number().int(),
    type: z.string(),
    user: z.string().nullable().meta({ description: "The user whose stream holds the event." }),
    token: z.string().nullable().meta({ description: 'The token the event is about (token events).' }),
    data: z.unknown(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEvent', description: 'One event of the log, as `tokenledger audit --json` prints it.' });

export const AuditPage = z
  .object({ next: z.string().nullable().meta({ description: 'The URL of the next page; null on the last one.' }), results: z.array(AuditEvent) })
  .meta({ id: 'AuditPage' });

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const Ready = z
  .object({ status: z.literal('ready'), head: z.number().int(), checkpoint: z.number().int(), lag: z.number().int() })
  .meta({ id: 'Ready' });

export const Unready = z.object({ status: z.literal('unavailable'), detail: z.string() }).meta({ id: 'Unready' });

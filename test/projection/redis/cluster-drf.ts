import type { Ledger } from '../../../src/app/ledger.js';
import { MESSAGES } from '../../../src/koa/index.js';

/*
 * SPEC §7 and §4 as a compact table, keyword Token, for the cluster test (the full table, both
 * keywords, runs on one Redis in test/koa/drf-compat.int.test.ts, from the same drfScenario).
 */
const DAY = 86_400_000;

/** The users and keys the rows need: live, legacy, scoped, inactive, expired, in grace, superseded, revoked. */
export async function drfScenario(ledger: Ledger, at: (ms: number) => void): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  for (const username of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await ledger.registerUser({ username, password: null });
  keys.alice = (await ledger.issueToken({ username: 'alice' })).key;
  keys.legacy = (await ledger.issueToken({ username: 'alice', name: 'legacy', format: 'drf' })).key;
  keys.reader = (await ledger.issueToken({ username: 'alice', name: 'reader', scopes: ['tokens:read'] })).key;
  keys.bob = (await ledger.issueToken({ username: 'bob' })).key;
  await ledger.deactivateUser('bob');
  at(-2 * DAY);
  keys.carol = (await ledger.issueToken({ username: 'carol', expiresIn: '1d' })).key;
  at(0);
  keys.daveOld = (await ledger.issueToken({ username: 'dave' })).key;
  keys.daveNew = (await ledger.rotateToken({ username: 'dave', grace: '1h' })).key;
  keys.erinOld = (await ledger.issueToken({ username: 'erin' })).key;
  keys.erinNew = (await ledger.rotateToken({ username: 'erin' })).key;
  keys.frank = (await ledger.issueToken({ username: 'frank' })).key;
  await ledger.revokeToken({ username: 'frank' });
  return keys;
}

/** For a 200 `expected` is the username the app answers with (null: anonymous); otherwise the detail. */
export type Row = [label: string, authorization: string | null, status: number, expected: string | null, path?: string];

export function drfRows(keys: Record<string, string>): Row[] {
  const key = keys.alice!;
  return [
    ['Token <key>', `Token ${key}`, 200, 'alice'],
    ['token <key>', `token ${key}`, 200, 'alice'],
    ['TOKEN <key>', `TOKEN ${key}`, 200, 'alice'],
    ['  Token   <key>  ', `  Token   ${key}  `, 200, 'alice'],
    ['Token\\t<key>', `Token\t${key}`, 200, 'alice'],
    ['no header', null, 401, MESSAGES.notProvided],
    ['Bearer <key>', `Bearer ${key}`, 401, MESSAGES.notProvided],
    ['Basic …', 'Basic YWxpY2U6d29uZGVybGFuZC0xMjM=', 401, MESSAGES.notProvided],
    ['Tokenabc', 'Tokenabc', 401, MESSAGES.notProvided],
    ['Token', 'Token', 401, MESSAGES.noCredentials],
    ['Token a b', 'Token a b', 401, MESSAGES.spaces],
    ['Token <key>\\xb8', `Token ${key}\xb8`, 401, MESSAGES.invalidCharacters],
    ['Token <KEY>', `Token ${key.toUpperCase()}`, 401, MESSAGES.invalidToken],
    ['revoked key', `Token ${keys.frank}`, 401, MESSAGES.invalidToken],
    ['superseded key, no grace', `Token ${keys.erinOld}`, 401, MESSAGES.invalidToken],
    ['unknown DRF-shaped key', `Token ${'ab'.repeat(20)}`, 401, MESSAGES.invalidToken],
    ['expired key', `Token ${keys.carol}`, 401, MESSAGES.expired],
    ["inactive user's key", `Token ${keys.bob}`, 401, MESSAGES.inactive],
    ['superseded key inside its grace', `Token ${keys.daveOld}`, 200, 'dave'],
    ['the rotated key', `Token ${keys.daveNew}`, 200, 'dave'],
    ['the new key after a rotation without grace', `Token ${keys.erinNew}`, 200, 'erin'],
    ['an imported-style DRF key', `Token ${keys.legacy}`, 200, 'alice'],
    ['scoped token, route needs no scope', `Token ${keys.reader}`, 200, 'alice'],
    ['scoped token, route needs another scope', `Token ${keys.reader}`, 403, MESSAGES.forbidden, '/api/write/'],
    ['anonymous route, no header', null, 200, null, '/api/open/'],
    ['anonymous route, failed attempt', 'Token nope', 401, MESSAGES.invalidToken, '/api/open/'],
  ];
}

import type { ProjectedToken, StoredRecord, UserDoc } from '../../../projections/token-records.js';

/*
 * Values are positional JSON arrays, position first: field names would double the size of a
 * record (goal: ≤ 400 bytes per record in MEMORY USAGE), and the Lua scripts read the position
 * of a document with one pattern match, `^%[(%d+)`.
 *
 *   record  [position, userId, username, flags, tokenId, name, scopes, expiresAt, graceUntil]
 *   doc     [position, userId, username, flags, [[name, tokenId, digest, scopes, expiresAt, previousDigest, graceUntil], …]]
 *   flags   1 = active, 2 = staff, 4 = superuser
 */

type Flags = Pick<UserDoc, 'active' | 'isStaff' | 'isSuperuser'>;

const flagsOf = (f: Flags): number => (f.active ? 1 : 0) | (f.isStaff ? 2 : 0) | (f.isSuperuser ? 4 : 0);
const fromFlags = (n: number): Flags => ({ active: (n & 1) !== 0, isStaff: (n & 2) !== 0, isSuperuser: (n & 4) !== 0 });

/** A stored value that is not what this codec writes: never guessed at, the caller fails closed. */
export class CorruptValueError extends Error {
  constructor(what: string) {
    super(`corrupt ${what} in the Redis projection (run \`tokenledger projection rebuild\`)`);
    this.name = 'CorruptValueError';
  }
}

function parseArray(text: string, length: number, what: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CorruptValueError(what);
  }
  if (!Array.isArray(value) || value.length !== length || typeof value[0] !== 'number') throw new CorruptValueError(what);
  return value;
}

export function encodeRecord(r: StoredRecord): string {
  return JSON.stringify([r.position, r.userId, r.username, flagsOf(r), r.tokenId, r.name, r.scopes, r.expiresAt, r.graceUntil]);
}

export function decodeRecord(text: string): StoredRecord {
  const [position, userId, username, flags, tokenId, name, scopes, expiresAt, graceUntil] = parseArray(text, 9, 'record');
  return {
    userId: userId as string,
    username: username as string,
    ...fromFlags(flags as number),
    tokenId: tokenId as string,
    name: name as string,
    scopes: scopes as string[],
    expiresAt: expiresAt as number | null,
    graceUntil: graceUntil as number | null,
    position: position as number,
  };
}

export function encodeDoc(d: UserDoc): string {
  const tokens = Object.values(d.tokens).map((t) => [
    t.name,
    t.tokenId,
    t.digest,
    t.scopes,
    t.expiresAt,
    t.previous?.digest ?? null,
    t.previous?.graceUntil ?? null,
  ]);
  return JSON.stringify([d.position, d.userId, d.username, flagsOf(d), tokens]);
}

export function decodeDoc(text: string): UserDoc {
  const [position, userId, username, flags, rows] = parseArray(text, 5, 'user document');
  const tokens: Record<string, ProjectedToken> = {};
  for (const [name, tokenId, digest, scopes, expiresAt, previousDigest, graceUntil] of rows as unknown[][]) {
    tokens[name as string] = {
      tokenId: tokenId as string,
      name: name as string,
      scopes: scopes as string[],
      expiresAt: expiresAt as number | null,
      digest: digest as string,
      previous: previousDigest === null ? null : { digest: previousDigest as string, graceUntil: graceUntil as number },
    };
  }
  return { position: position as number, userId: userId as string, username: username as string, ...fromFlags(flags as number), tokens };
}

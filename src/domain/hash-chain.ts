import { createHash } from 'node:crypto';

/** The hash a stream's first event chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so that a hash never depends on key order. */
export function canonicalJson(value: unknown): string {
  // Every append hashes each event through here: a copy with each object's keys inserted in
  // sorted order, written by JSON.stringify in one string (less CPU and far less garbage than
  // concatenating it member by member). Objects whose keys an object would not keep in insertion
  // order (array indexes such as "10" come first) or cannot hold ("__proto__") are written member
  // by member instead.
  const sorted = sortedCopy(value);
  return sorted === UNORDERED ? byMembers(value) : (JSON.stringify(sorted) ?? 'null');
}

/** sortedCopy's answer for a value that has a key it cannot place. */
const UNORDERED: unique symbol = Symbol('unordered');

/** Sorts keys in place by UTF-16 code units, as the default sort does (objects have few keys). */
function sortKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}

/** The value as byMembers writes it, with objects copied keys-sorted, for JSON.stringify to write as it is. */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? null : value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sortedCopy((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const member = sortedCopy(value[i]);
      if (member === UNORDERED) return UNORDERED;
      out[i] = member;
    }
    return out;
  }
  const record = value as Record<string, unknown>;
  const keys = sortKeys(Object.keys(record));
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const first = key.charCodeAt(0);
    if ((first >= 48 && first <= 57) || key === '__proto__') return UNORDERED;
    const member = record[key];
    if (member === undefined) continue;
    const copy = sortedCopy(member);
    if (copy === UNORDERED) return UNORDERED;
    out[key] = copy;
  }
  return out;
}

/** What JSON.stringify escapes in a string (quote, backslash, control characters, lone surrogates), and U+2028/9. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** JSON.stringify of a string, without calling it for the common string that has nothing to escape. */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** canonicalJson written member by member: the definition, for any keys. */
function byMembers(value: unknown): string {
  if (typeof value === 'string') return jsonString(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // As JSON.stringify does (a Date becomes its ISO string), so the hash of what we append equals
  // the hash of what the store gives back.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return byMembers((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + byMembers(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort orders by UTF-16 code units, as `<` does.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${jsonString(key)}:${byMembers(member)}`;
  }
  return `${out}}`;
}

export interface ChainInput {
  streamId: string;
  revision: bigint;
  type: string;
  data: unknown;
  /** The event's metadata without `hash` (but with `prevHash`). */
  metadata: Record<string, unknown>;
}

/**
 * sha256 over the previous hash and everything that identifies the event, so editing, removing
 * or reordering an event breaks the chain at that point.
 */
export function eventHash(input: ChainInput): string {
  const body = canonicalJson({
    streamId: input.streamId,
    revision: input.revision.toString(),
    type: input.type,
    data: input.data,
    metadata: input.metadata,
  });
  return createHash('sha256').update(body).digest('hex');
}

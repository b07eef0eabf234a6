import { createHash } from 'node:crypto';

/** The hash a stream's first event chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/** What JSON.stringify escapes in a string (quote, backslash, control characters, lone surrogates), and U+2028/9. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** JSON.stringify of a string, without calling it for the common string that has nothing to escape. */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** JSON with object keys sorted, so that a hash never depends on key order. */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return jsonString(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // As JSON.stringify does (a Date becomes its ISO string), so the hash of what we append equals
  // the hash of what the store gives back.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON(): unknown }).toJSON());
  // Built by concatenation: every append hashes each event's data and metadata through here.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort orders by UTF-16 code units, as `<` does.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${jsonString(key)}:${canonicalJson(member)}`;
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

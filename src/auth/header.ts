import { isUtf8 } from 'node:buffer';

/**
 * What an `Authorization` header says, by DRF's rules (`TokenAuthentication.authenticate`):
 * - `none`: no header, an empty one, or another scheme: no attempt was made;
 * - `no_credentials`: the keyword alone;
 * - `spaces`: more than two words;
 * - `invalid_characters`: the key's bytes are not UTF-8;
 * - `key`: the one key to check.
 */
export type HeaderResult =
  | { kind: 'none' }
  | { kind: 'no_credentials' }
  | { kind: 'spaces' }
  | { kind: 'invalid_characters' }
  | { kind: 'key'; key: string };

const NONE: HeaderResult = Object.freeze({ kind: 'none' });
const NO_CREDENTIALS: HeaderResult = Object.freeze({ kind: 'no_credentials' });
const SPACES: HeaderResult = Object.freeze({ kind: 'spaces' });
const INVALID_CHARACTERS: HeaderResult = Object.freeze({ kind: 'invalid_characters' });

/** Python's `bytes.split()` separators: space, \t, \n, \x0b, \x0c, \r. Not NBSP (0xa0). */
function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/** ASCII-only lower-casing, as `bytes.lower()` does. */
function lowerByte(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

/**
 * Returns a parser for one keyword (`Token`, `Bearer`, …), compared case-insensitively.
 *
 * The header is taken as Node hands it over: one character per byte (latin-1), so
 * `Buffer.from(value, 'latin1')` are the bytes on the wire. The parser reads those bytes
 * without copying them, and only builds a Buffer when the key holds a non-ASCII byte.
 */
export function headerParser(keyword: string): (header: string | undefined) => HeaderResult {
  // DRF compares against `keyword.lower().encode()`: the UTF-8 bytes of the lower-cased keyword.
  const wanted = Buffer.from(keyword.toLowerCase(), 'utf8');
  return (header) => {
    if (header === undefined) return NONE;
    const length = header.length;
    let i = 0;
    // Charcodes above 0xff cannot come from Node's parser; `& 0xff` treats them as
    // Buffer.from(value, 'latin1') does, so a string and its bytes always get the same answer.
    while (i < length && isSpace(header.charCodeAt(i) & 0xff)) i++;
    if (i === length) return NONE;
    const first = i;
    while (i < length && !isSpace(header.charCodeAt(i) & 0xff)) i++;
    if (i - first !== wanted.length) return NONE;
    for (let j = 0; j < wanted.length; j++) {
      if (lowerByte(header.charCodeAt(first + j) & 0xff) !== wanted[j]) return NONE;
    }
    while (i < length && isSpace(header.charCodeAt(i) & 0xff)) i++;
    if (i === length) return NO_CREDENTIALS;
    const start = i;
    let ascii = true;
    for (; i < length; i++) {
      const code = header.charCodeAt(i);
      if (isSpace(code & 0xff)) break;
      if (code > 0x7f) ascii = false;
    }
    const end = i;
    while (i < length && isSpace(header.charCodeAt(i) & 0xff)) i++;
    if (i !== length) return SPACES;
    if (ascii) return { kind: 'key', key: header.slice(start, end) };
    const bytes = Buffer.from(header.slice(start, end), 'latin1');
    // Python's strict UTF-8 decode: no overlong forms, no surrogates, and a BOM is kept.
    if (!isUtf8(bytes)) return INVALID_CHARACTERS;
    return { kind: 'key', key: bytes.toString('utf8') };
  };
}

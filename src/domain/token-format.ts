import { hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The base62 alphabet of GitHub-style tokens: digits, upper case, lower case. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const RANDOM_LENGTH = 30;
export const CHECKSUM_LENGTH = 6;
export type TokenFormat = 'tl' | 'drf';

/** A source of cryptographically secure random bytes; the domain never picks its own. */
export type RandomBytes = (size: number) => Uint8Array;

function base62Fixed(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** 6 base62 characters of the CRC32 of the random part (62^6 > 2^32, so no information is lost). */
export function checksum(randomPart: string): string {
  return base62Fixed(crc32(randomPart), CHECKSUM_LENGTH);
}

/**
 * `length` uniform base62 characters. Bytes >= 248 are rejected so that `byte % 62` is unbiased
 * (248 = 4 * 62); 30 characters carry 30 * log2(62) ≈ 178.6 bits.
 */
export function randomBase62(random: RandomBytes, length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateKey(format: TokenFormat, prefix: string, random: RandomBytes): string {
  if (format === 'drf') return Buffer.from(random(20)).toString('hex');
  const body = randomBase62(random, RANDOM_LENGTH);
  return `${prefix}_${body}${checksum(body)}`;
}

export type KeyShape = 'tl_valid' | 'tl_bad_checksum' | 'other';

/** Base62 digit values by char code (-1: not a base62 character). */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE62.length; i++) DIGIT[BASE62.charCodeAt(i)] = i;

/** CRC-32 (the zlib polynomial) of an ASCII string, byte by byte: for the per-request check. */
const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/**
 * Classifies a key without any lookup. Only strings that carry `<prefix>_` are held to the
 * checksum; anything else (imported DRF keys, say) must still be looked up.
 *
 * This runs on every request, so it is one pass over the characters that allocates nothing: the
 * random part's CRC-32 is computed as it is validated, and the 6 checksum characters are read as
 * the base62 number they spell (equal to the CRC exactly when `checksum()` would have written them).
 */
export function keyShape(key: string, prefix: string): KeyShape {
  if (!key.startsWith(prefix) || key.charCodeAt(prefix.length) !== 95 /* _ */) return 'other';
  const start = prefix.length + 1;
  const sumStart = start + RANDOM_LENGTH;
  if (key.length !== sumStart + CHECKSUM_LENGTH) return 'tl_bad_checksum';
  let crc = -1;
  for (let i = start; i < sumStart; i++) {
    const code = key.charCodeAt(i);
    if (code > 127 || DIGIT[code]! < 0) return 'tl_bad_checksum';
    crc = CRC_TABLE[(crc ^ code) & 0xff]! ^ (crc >>> 8);
  }
  let spelled = 0;
  for (let i = sumStart; i < key.length; i++) {
    const code = key.charCodeAt(i);
    const digit = code > 127 ? -1 : DIGIT[code]!;
    if (digit < 0) return 'tl_bad_checksum';
    spelled = spelled * 62 + digit;
  }
  return spelled === (crc ^ -1) >>> 0 ? 'tl_valid' : 'tl_bad_checksum';
}

/** The only form in which a key is ever stored: its SHA-256, hex. */
export function digestKey(key: string): string {
  // crypto.hash (Node >= 20.12) is the one-shot form: no Hash object per request, as createHash makes.
  return hash('sha256', key, 'hex');
}

/** The part of a key that may be shown again (lists, "already exists" messages). */
export function keyPrefixOf(key: string): string {
  return key.slice(0, 8);
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerParser, type HeaderResult } from '../../src/auth/header.js';

/**
 * DRF 3.14's `TokenAuthentication.authenticate`, transcribed line by line over bytes:
 * `auth = header.split()`; keyword test with `bytes.lower()`; word count; `auth[1].decode()`.
 */
function drfReference(header: string | undefined, keyword: string): HeaderResult {
  const bytes = Buffer.from(header ?? '', 'latin1');
  const words: Buffer[] = [];
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const space = i === bytes.length || [0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c].includes(bytes[i]!);
    if (space && start >= 0) (words.push(bytes.subarray(start, i)), (start = -1));
    else if (!space && start < 0) start = i;
  }
  const lower = (b: Buffer) => Buffer.from(b.map((x) => (x >= 0x41 && x <= 0x5a ? x + 32 : x)));
  if (words.length === 0 || !lower(words[0]!).equals(Buffer.from(keyword.toLowerCase(), 'utf8'))) return { kind: 'none' };
  if (words.length === 1) return { kind: 'no_credentials' };
  if (words.length > 2) return { kind: 'spaces' };
  try {
    return { kind: 'key', key: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(words[1]) };
  } catch {
    return { kind: 'invalid_characters' };
  }
}

const KEY = 'tl_AbCdEfGhIjKlMnOpQrStUvWxYz0123abcdef';
const latin1 = (bytes: number[]) => Buffer.from(bytes).toString('latin1');
const token = headerParser('Token');

describe('header parser, SPEC §7 rows (keyword Token)', () => {
  const rows: [string, string | undefined, HeaderResult][] = [
    ['Token <key>', `Token ${KEY}`, { kind: 'key', key: KEY }],
    ['token <key>', `token ${KEY}`, { kind: 'key', key: KEY }],
    ['TOKEN <key>', `TOKEN ${KEY}`, { kind: 'key', key: KEY }],
    ['surrounding and repeated spaces', `  Token   ${KEY}  `, { kind: 'key', key: KEY }],
    ['tab', `Token\t${KEY}`, { kind: 'key', key: KEY }],
    ['\\n \\r \\x0b \\x0c separate words too', `\x0bToken\r\n\x0c${KEY}\n`, { kind: 'key', key: KEY }],
    ['no header', undefined, { kind: 'none' }],
    ['empty', '', { kind: 'none' }],
    ['whitespace only', ' \t ', { kind: 'none' }],
    ['Bearer <key>', `Bearer ${KEY}`, { kind: 'none' }],
    ['Basic', 'Basic YWxpY2U6cHc=', { kind: 'none' }],
    ['Tokenabc', 'Tokenabc', { kind: 'none' }],
    ['NBSP is not a separator', `Token\xa0${KEY}`, { kind: 'none' }],
    ['Token', 'Token', { kind: 'no_credentials' }],
    ['Token + spaces', 'Token   ', { kind: 'no_credentials' }],
    ['Token a b', 'Token a b', { kind: 'spaces' }],
    ['invalid UTF-8', `Token ${KEY}\xb8`, { kind: 'invalid_characters' }],
    ['surrogate in UTF-8 is invalid', `Token ${latin1([0x61, 0xed, 0xa0, 0x80])}`, { kind: 'invalid_characters' }],
    ['overlong NUL is invalid', `Token ${latin1([0xc0, 0x80])}`, { kind: 'invalid_characters' }],
    ['valid UTF-8 é is decoded', `Token ${KEY}${latin1([0xc3, 0xa9])}`, { kind: 'key', key: `${KEY}é` }],
    ['a BOM is kept, as Python keeps it', `Token ${latin1([0xef, 0xbb, 0xbf])}x`, { kind: 'key', key: '\ufeffx' }],
    ['NUL is just part of a key', 'Token a\x00b', { kind: 'key', key: 'a\x00b' }],
    ['quotes are part of the key', `Token "${KEY}"`, { kind: 'key', key: `"${KEY}"` }],
    ['a comma is part of the key', `Token ${KEY},`, { kind: 'key', key: `${KEY},` }],
    ['case is kept', `Token ${KEY.toUpperCase()}`, { kind: 'key', key: KEY.toUpperCase() }],
    ['\\x1c..\\x1f and \\x85 are not separators for bytes', 'Token a\x1cb\x85', { kind: 'invalid_characters' }],
  ];
  it.each(rows)('%s', (_, header, expected) => {
    expect(token(header)).toEqual(expected);
    expect(drfReference(header, 'Token')).toEqual(expected);
  });

  it('takes another keyword (Bearer) with the same rules', () => {
    const bearer = headerParser('Bearer');
    expect(bearer(`bEaReR ${KEY}`)).toEqual({ kind: 'key', key: KEY });
    expect(bearer(`Token ${KEY}`)).toEqual({ kind: 'none' });
    expect(bearer('Bearer')).toEqual({ kind: 'no_credentials' });
  });
});

describe('header parser, property: never throws and agrees with DRF', () => {
  const keywords = fc.constantFrom('Token', 'Bearer', 'tok');
  // Pieces that matter: keyword spellings, every separator, near-separators, UTF-8 both valid and broken.
  const piece = fc.oneof(
    fc.constantFrom('Token', 'token', 'TOKEN', 'ToKeN', 'Bearer', 'bearer', 'tok', 'Tokenx', 'Toke'),
    fc.constantFrom(' ', '\t', '\n', '\r', '\x0b', '\x0c', '\xa0', '\x1c', '\x85', '\x00', '  '),
    fc.constantFrom(latin1([0xc3, 0xa9]), latin1([0xe2, 0x82, 0xac]), latin1([0xf0, 0x9f, 0x98, 0x80]), latin1([0xef, 0xbb, 0xbf])),
    fc.constantFrom('\xb8', '\xc3', latin1([0xed, 0xa0, 0x80]), latin1([0xc0, 0xaf]), latin1([0xf8, 0x88, 0x80, 0x80, 0x80])),
    fc.string({ unit: 'binary-ascii', maxLength: 8 }),
    fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString('latin1')),
    // Charcodes above 0xff cannot come from Node, but the parser must still treat them as latin-1 bytes.
    fc.constantFrom('\u0120', '\u0109', 'é', '€'),
  );
  const header = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''));

  it('agrees with the reference on random headers', () => {
    fc.assert(
      fc.property(keywords, fc.option(header, { nil: undefined }), (keyword, value) => {
        expect(headerParser(keyword)(value)).toEqual(drfReference(value, keyword));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the reference on arbitrary byte strings', () => {
    fc.assert(
      fc.property(keywords, fc.uint8Array({ maxLength: 40 }), (keyword, bytes) => {
        const value = Buffer.from(bytes).toString('latin1');
        expect(headerParser(keyword)(value)).toEqual(drfReference(value, keyword));
      }),
      { numRuns: 5000 },
    );
  });
});

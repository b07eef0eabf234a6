import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BASE62,
  checksum,
  digestKey,
  generateKey,
  keyPrefixOf,
  keyShape,
  randomBase62,
  type RandomBytes,
} from '../../src/domain/index.js';

/** A reproducible byte source for fast-check: sha256 in counter mode over the seed. */
function seeded(seed: number): RandomBytes {
  let counter = 0;
  return (size) => {
    const out = Buffer.alloc(size);
    for (let offset = 0; offset < size; offset += 32) {
      createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, offset);
    }
    return out;
  };
}

const seeds = fc.integer();
const keyOf = (seed: number, prefix = 'tl') => generateKey('tl', prefix, seeded(seed));
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));

describe('default keys', () => {
  it('are tl_ + 36 base62 characters and pass their checksum', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const key = keyOf(seed);
        expect(key).toMatch(/^tl_[0-9A-Za-z]{36}$/);
        expect(keyShape(key, 'tl')).toBe('tl_valid');
      }),
    );
  });

  it('end in the base62 CRC32 of their random part', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const key = keyOf(seed);
        const decoded = [...key.slice(-6)].reduce((n, ch) => n * 62 + BASE62.indexOf(ch), 0);
        expect(decoded).toBe(crc32(key.slice(3, 33)));
      }),
    );
  });

  it('fail the check after ANY single-character change, at every position, to every other printable char', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const key = keyOf(seed);
        for (let i = 0; i < key.length; i++) {
          for (const ch of PRINTABLE) {
            if (ch === key[i]) continue;
            const changed = key.slice(0, i) + ch + key.slice(i + 1);
            if (keyShape(changed, 'tl') === 'tl_valid') throw new Error(`${i}: ${JSON.stringify(ch)} passes`);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('fail the check after a change to any Unicode character, a deletion, an insertion or a swap', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), ch: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) }),
      fc.record({ kind: fc.constant('insert' as const), ch: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) }),
      fc.record({ kind: fc.constant('delete' as const) }),
      fc.record({ kind: fc.constant('swap' as const) }),
    );
    fc.assert(
      fc.property(seeds, fc.nat(38), edit, (seed, i, e) => {
        const key = keyOf(seed);
        let changed: string;
        if (e.kind === 'replace') changed = key.slice(0, i) + e.ch + key.slice(i + 1);
        else if (e.kind === 'insert') changed = key.slice(0, i) + e.ch + key.slice(i);
        else if (e.kind === 'delete') changed = key.slice(0, i) + key.slice(i + 1);
        else changed = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
        fc.pre(changed !== key);
        expect(keyShape(changed, 'tl')).not.toBe('tl_valid');
      }),
      { numRuns: 2_000 },
    );
  });

  it('use the configured prefix; keys with another prefix are "other", to be looked up', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const key = keyOf(seed, 'acme');
        expect(key).toMatch(/^acme_[0-9A-Za-z]{36}$/);
        expect(keyShape(key, 'acme')).toBe('tl_valid');
        expect(keyShape(key, 'tl')).toBe('other');
        expect(keyShape(keyOf(seed), 'acme')).toBe('other');
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        fc.pre(!s.startsWith('tl_'));
        expect(keyShape(s, 'tl')).toBe('other');
      }),
    );
    expect(keyShape('tl_', 'tl')).toBe('tl_bad_checksum');
    expect(keyShape('tlx_abc', 'tl')).toBe('other');
  });

  it('are checked exactly as checksum() (zlib CRC-32) writes them, for any text after the prefix', () => {
    const base62Fixed6 = (n: number) => Array.from({ length: 6 }, (_, i) => BASE62[Math.floor(n / 62 ** (5 - i)) % 62]).join('');
    expect(base62Fixed6(crc32('x'.repeat(30)))).toBe(checksum('x'.repeat(30)));
    // keyShape computes its CRC in one allocation-free pass; zlib's crc32 is the reference.
    const base62 = fc.constantFrom(...BASE62);
    const anyChar = fc.oneof(base62, fc.constantFrom(...PRINTABLE, 'é', '\u0100', '\uffff', ''));
    const bodies = fc.oneof(fc.string({ unit: base62, minLength: 30, maxLength: 30 }), fc.string({ unit: anyChar, minLength: 28, maxLength: 32 }));
    fc.assert(
      fc.property(bodies, fc.array(anyChar, { maxLength: 8 }), fc.boolean(), (body, tail, honest) => {
        const suffix = honest ? base62Fixed6(crc32(body)) : tail.join('');
        const expected = /^[0-9A-Za-z]{30}$/.test(body) && suffix === base62Fixed6(crc32(body)) ? 'tl_valid' : 'tl_bad_checksum';
        expect(keyShape(`tl_${body}${suffix}`, 'tl')).toBe(expected);
      }),
      { numRuns: 5_000 },
    );
  });

  it('carry at least 160 bits from the random source', () => {
    // 30 uniform base62 characters: 30 * log2(62) bits.
    expect(30 * Math.log2(62)).toBeGreaterThan(160);
    const keys = new Set(Array.from({ length: 2_000 }, () => generateKey('tl', 'tl', randomBytes)));
    expect(keys.size).toBe(2_000);
  });
});

describe('--format drf keys', () => {
  it('are 40 lowercase hex characters, from 20 random bytes, and are never checksummed', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const key = generateKey('drf', 'tl', seeded(seed));
        expect(key).toMatch(/^[0-9a-f]{40}$/);
        expect(key).toBe(Buffer.from(seeded(seed)(20)).toString('hex'));
        expect(keyShape(key, 'tl')).toBe('other');
      }),
    );
  });
});

describe('randomBase62', () => {
  it('maps each byte below 248 to one character, evenly, and skips the rest', () => {
    // A source that yields every byte value in turn: exactly 4 bytes per character survive each cycle.
    let next = 0;
    const everyByte: RandomBytes = (size) => Uint8Array.from({ length: size }, () => next++ % 256);
    const text = randomBase62(everyByte, 62 * 4 * 10);
    const counts = new Map<string, number>();
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    expect([...counts.values()].every((n) => n === 40)).toBe(true);
    expect(randomBase62(() => Uint8Array.from([248, 255, 250, 61, 62, 0]), 3)).toBe('z00');
  });

  it('gives every character about the same share from the CSPRNG', () => {
    const text = randomBase62(randomBytes, 62 * 1_000);
    const counts = new Map<string, number>();
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Mean 1000, standard deviation ≈ 31: ±250 is eight deviations, so this never flakes but catches a skew.
    for (const n of counts.values()) expect(Math.abs(n - 1_000)).toBeLessThan(250);
  });

  it('returns exactly the length asked for', () => {
    fc.assert(fc.property(seeds, fc.nat(200), (seed, n) => {
      expect(randomBase62(seeded(seed), n)).toHaveLength(n);
    }));
  });
});

describe('digests and prefixes', () => {
  it('digests are the sha256 of the key, in hex', () => {
    expect(digestKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    fc.assert(
      fc.property(fc.string(), (key) => {
        expect(digestKey(key)).toMatch(/^[0-9a-f]{64}$/);
        expect(digestKey(key)).toBe(createHash('sha256').update(Buffer.from(key, 'utf8')).digest('hex'));
      }),
    );
  });

  it('the shown prefix is the first 8 characters', () => {
    fc.assert(fc.property(seeds, (seed) => {
      expect(keyPrefixOf(keyOf(seed))).toBe(keyOf(seed).slice(0, 8));
    }));
  });

  it('the checksum is 6 characters for every 30-character body', () => {
    fc.assert(fc.property(seeds, (seed) => {
      expect(checksum(randomBase62(seeded(seed), 30))).toMatch(/^[0-9A-Za-z]{6}$/);
    }));
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalJson, eventHash, type ChainInput } from '../../src/domain/index.js';

/** The same JSON value with every object's keys in a shuffled order. */
function shuffled(value: unknown, order: number[]): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, order));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([k, v], i) => [k, shuffled(v, order), order[i % order.length]!] as const);
  entries.sort((a, b) => a[2] - b[2]);
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  return Object.fromEntries(entries.map(([k, v]) => [k, v]));
}

const input = fc.record({
  streamId: fc.string({ minLength: 1 }),
  revision: fc.bigInt({ min: 0n, max: 1n << 40n }),
  type: fc.string({ minLength: 1 }),
  data: fc.jsonValue(),
  metadata: fc.dictionary(fc.string(), fc.jsonValue()),
});

/** canonicalJson as first written, member by member: the definition the hashes of every stored log were made with. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return reference((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${reference(record[key])}`);
  return `{${members.join(',')}}`;
}

describe('canonicalJson', () => {
  it('writes exactly what the member-by-member definition writes, whatever the keys (array indexes, __proto__, digits, escapes)', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('0', '1', '10', '2', '01', '1a', '__proto__', 'constructor', 'a"b', '\u2028'), fc.nat().map(String));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), tie('object'), fc.array(tie('node'), { maxLength: 4 })),
      object: fc.dictionary(key, tie('node'), { maxKeys: 6 }),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 500 },
    );
    const odd = JSON.parse('{"__proto__":{"x":1},"b":[1,{"10":true,"9":false}],"a":"\u2028"}');
    expect(canonicalJson(odd)).toBe(reference(odd));
    expect(canonicalJson({ at: new Date(Date.UTC(2030, 0, 1)), f: () => 1, u: undefined, n: [undefined, NaN, -0] })).toBe(
      reference({ at: new Date(Date.UTC(2030, 0, 1)), f: () => 1, u: undefined, n: [undefined, NaN, -0] }),
    );
  });

  it('does not depend on key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.nat(), { minLength: 1 }), (value, order) => {
        expect(canonicalJson(shuffled(value, order))).toBe(canonicalJson(value));
      }),
    );
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
  });

  it('is JSON for the same value, and survives the store\'s JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const stored = JSON.parse(JSON.stringify(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(stored);
        expect(canonicalJson(stored)).toBe(canonicalJson(value));
      }),
    );
  });

  it('writes strings and keys exactly as JSON.stringify does (escapes, U+2028/9, surrogates, pairs and lone)', () => {
    const special = ['', 'plain', 'a"b', 'a\\b', '\u0000\u001f\u007f', '\n\t\r\b\f', '\u2028\u2029', '😀', '\ud800', 'x\udfffy', 'é ü ß'];
    for (const text of special) {
      expect(canonicalJson(text)).toBe(JSON.stringify(text));
      expect(canonicalJson({ [text]: text })).toBe(JSON.stringify({ [text]: text }));
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(canonicalJson(text)).toBe(JSON.stringify(text));
        expect(canonicalJson({ [text]: [text] })).toBe(JSON.stringify({ [text]: [text] }));
      }),
    );
  });

  it('leaves out undefined members and honours toJSON, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    const at = new Date(Date.UTC(2030, 0, 1));
    expect(canonicalJson({ at })).toBe(canonicalJson(JSON.parse(JSON.stringify({ at }))));
  });
});

describe('eventHash', () => {
  it('is a sha256 in hex, like the genesis hash', () => {
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
    fc.assert(
      fc.property(input, (i) => {
        expect(eventHash(i)).toMatch(/^[0-9a-f]{64}$/);
      }),
    );
  });

  it('does not depend on key order in data or metadata', () => {
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { minLength: 1 }), (i, order) => {
        expect(eventHash({ ...i, data: shuffled(i.data, order), metadata: shuffled(i.metadata, order) as ChainInput['metadata'] })).toBe(eventHash(i));
      }),
    );
  });

  it('changes with any change of stream, revision, type, data or metadata (prevHash included)', () => {
    const changed = (i: ChainInput, field: keyof ChainInput, other: unknown): ChainInput => ({ ...i, [field]: other });
    fc.assert(
      fc.property(input, fc.jsonValue(), fc.string(), (i, json, text) => {
        const h = eventHash(i);
        if (canonicalJson(json) !== canonicalJson(i.data)) expect(eventHash(changed(i, 'data', json))).not.toBe(h);
        if (text !== i.type) expect(eventHash(changed(i, 'type', text))).not.toBe(h);
        if (text !== i.streamId) expect(eventHash(changed(i, 'streamId', text))).not.toBe(h);
        expect(eventHash(changed(i, 'revision', i.revision + 1n))).not.toBe(h);
        expect(eventHash(changed(i, 'metadata', { ...i.metadata, prevHash: GENESIS_HASH.replace(/0$/, '1') }))).not.toBe(h);
        const key = Object.keys(i.metadata)[0];
        if (key !== undefined) {
          const { [key]: _removed, ...rest } = i.metadata;
          expect(eventHash(changed(i, 'metadata', rest))).not.toBe(h);
        }
      }),
    );
  });

  it('tells a value from its string form ("1" vs 1, null vs "null")', () => {
    const base = { streamId: 's', revision: 0n, type: 'T', metadata: {} };
    expect(eventHash({ ...base, data: { n: 1 } })).not.toBe(eventHash({ ...base, data: { n: '1' } }));
    expect(eventHash({ ...base, data: { n: null } })).not.toBe(eventHash({ ...base, data: { n: 'null' } }));
  });
});

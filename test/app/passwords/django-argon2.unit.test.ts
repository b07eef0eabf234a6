import { describe, expect, it } from 'vitest';
import { algorithmOf, verifyPassword } from '../../../src/app/passwords/index.js';

// Django's own vectors (tests/auth_tests/test_hashers.py): Django 3.2's default argon2id, the
// argon2i of Django 1.10–3.1, and the oldest argon2i strings, of Argon2 v1.0 (no `v=` field).
const ARGON2ID = 'argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw';
const ARGON2I = 'argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q';
const ARGON2I_V10 =
  'argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg';

describe('Django argon2', () => {
  it('verifies argon2id, argon2i and argon2i v1.0, and asks for a rehash', async () => {
    for (const stored of [ARGON2ID, ARGON2I, ARGON2I_V10]) {
      expect(await verifyPassword('secret', stored), stored).toEqual({ ok: true, rehash: true });
    }
  });

  it('refuses a wrong password', async () => {
    for (const stored of [ARGON2ID, ARGON2I, ARGON2I_V10]) {
      expect(await verifyPassword('Secret', stored), stored).toEqual({ ok: false, rehash: false });
    }
  });

  it('does not normalise: a compatibility spelling of the password is another password', async () => {
    // "ｓｅｃｒｅｔ" (fullwidth) is "secret" under NFKC.
    expect((await verifyPassword('\uff53\uff45\uff43\uff52\uff45\uff54', ARGON2I)).ok).toBe(false);
  });

  it('is Django\'s only with the `argon2` prefix; argon2d, broken and memory-hungry strings are unsupported', () => {
    for (const stored of [ARGON2ID, ARGON2I, ARGON2I_V10]) expect(algorithmOf(stored)).toBe('argon2');
    expect(algorithmOf(ARGON2I.slice('argon2'.length))).toBe('unsupported');
    expect(algorithmOf(ARGON2I.replace('argon2i', 'argon2d'))).toBe('unsupported');
    expect(algorithmOf('argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$')).toBe('unsupported');
    expect(algorithmOf(ARGON2ID.replace('m=102400', 'm=4194304'))).toBe('unsupported');
  });
});

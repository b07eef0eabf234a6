import { describe, expect, it } from 'vitest';
import { algorithmOf, verifyPassword } from '../../../src/app/passwords/index.js';

// Django's own vectors (tests/auth_tests/test_hashers.py), and strings Django 3.2.25's hashers
// wrote on this machine for a password that NFKC would change ("ﬁ" ligature, precomposed "è").
const LETMEIN = 'l\u00e8tmein';
const FINCH = '\ufb01nch-l\u00e8tmein';
const PUBLISHED_SHA256 = 'pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=';
const PUBLISHED_SHA1 = 'pbkdf2_sha1$1500000$seasalt2$ep4Ou2hnt2mlvMRsIjUln0Z5MYY=';
const DJANGO_32 = 'pbkdf2_sha256$260000$i7ku9LgFaXOfnGl6C8IQrw$sEJfjhS2m+7vZraGjwJGu6NfBEusUshhlfcDIn3fPtw=';
const FINCH_SHA256 = 'pbkdf2_sha256$1000$I8eKnMQdiVipFlK7CGJJea$RzmRFlQhs1j7i5w8zz6SXFCOs7vi7Bdzwg6g2uadpQk=';
const FINCH_SHA1 = 'pbkdf2_sha1$1000$E1h6nTrPn4nIISvfEejGNa$m8DTtaDT5Mk2ShD7pyPUhUgRTMs=';

describe('Django pbkdf2_sha256 and pbkdf2_sha1', () => {
  it('verifies the published vectors at any iteration count, and asks for a rehash', async () => {
    expect(await verifyPassword(LETMEIN, PUBLISHED_SHA256)).toEqual({ ok: true, rehash: true });
    expect(await verifyPassword(LETMEIN, PUBLISHED_SHA1)).toEqual({ ok: true, rehash: true });
    expect(await verifyPassword('wonderland-123', DJANGO_32)).toEqual({ ok: true, rehash: true });
    expect(await verifyPassword(FINCH, FINCH_SHA256)).toEqual({ ok: true, rehash: true });
    expect(await verifyPassword(FINCH, FINCH_SHA1)).toEqual({ ok: true, rehash: true });
  });

  it('refuses a wrong password without asking for a rehash', async () => {
    expect(await verifyPassword('letmein', PUBLISHED_SHA256)).toEqual({ ok: false, rehash: false });
    expect(await verifyPassword('wonderland-124', DJANGO_32)).toEqual({ ok: false, rehash: false });
    expect(await verifyPassword('', FINCH_SHA1)).toEqual({ ok: false, rehash: false });
  });

  it('does not normalise: the NFKC or decomposed spelling of the password is another password', async () => {
    expect((await verifyPassword(FINCH.normalize('NFKC'), FINCH_SHA256)).ok).toBe(false);
    expect((await verifyPassword(FINCH.normalize('NFD'), FINCH_SHA256)).ok).toBe(false);
    expect((await verifyPassword(FINCH.normalize('NFKC'), FINCH_SHA1)).ok).toBe(false);
  });

  it('compares whole strings as Django does: a count written with a leading zero never matches', async () => {
    expect((await verifyPassword(FINCH, FINCH_SHA256.replace('$1000$', '$01000$'))).ok).toBe(false);
  });

  it('names the algorithm, and calls malformed strings unsupported', () => {
    expect(algorithmOf(PUBLISHED_SHA256)).toBe('pbkdf2_sha256');
    expect(algorithmOf(PUBLISHED_SHA1)).toBe('pbkdf2_sha1');
    for (const bad of [
      'pbkdf2_sha256$0$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=',
      'pbkdf2_sha256$abc$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=',
      'pbkdf2_sha256$1500000$$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=',
      'pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL',
      'pbkdf2_sha256$99999999999$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=',
      PUBLISHED_SHA1.replace('pbkdf2_sha1', 'pbkdf2_sha256'),
    ]) {
      expect(algorithmOf(bad), bad).toBe('unsupported');
    }
  });
});

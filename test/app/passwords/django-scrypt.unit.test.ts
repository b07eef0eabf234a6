import { describe, expect, it } from 'vitest';
import { algorithmOf, verifyPassword } from '../../../src/app/passwords/index.js';

// Django's own vector (tests/auth_tests/test_hashers.py; Django 4.0+ has a scrypt hasher, 3.2 has none).
const LETMEIN = 'l\u00e8tmein';
const PUBLISHED = 'scrypt$16384$seasalt$8$5$ECMIUp+LMxMSK8xB/IVyba+KYGTI7FTnet025q/1f/vBAVnnP3hdYqJuRi+mJn6ji6ze3Fbb7JEFPKGpuEf5vw==';

describe('Django scrypt', () => {
  it('verifies the published vector and asks for a rehash', async () => {
    expect(await verifyPassword(LETMEIN, PUBLISHED)).toEqual({ ok: true, rehash: true });
  });

  it('refuses a wrong password, and the decomposed spelling of the right one', async () => {
    expect(await verifyPassword('letmein', PUBLISHED)).toEqual({ ok: false, rehash: false });
    expect((await verifyPassword(LETMEIN.normalize('NFD'), PUBLISHED)).ok).toBe(false);
  });

  it('names the algorithm, and calls malformed or oversized strings unsupported', () => {
    expect(algorithmOf(PUBLISHED)).toBe('scrypt');
    for (const bad of [
      PUBLISHED.replace('$16384$', '$16383$'),
      PUBLISHED.replace('$16384$', '$1073741824$'),
      PUBLISHED.replace('$8$5$', '$0$5$'),
      PUBLISHED.slice(0, -2),
    ]) {
      expect(algorithmOf(bad), bad).toBe('unsupported');
    }
  });
});

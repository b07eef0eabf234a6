import { describe, expect, it } from 'vitest';
import { algorithmOf, verifyPassword } from '../../../src/app/passwords/index.js';

// Salted md5 is Django's own vector; the rest were written by Django 3.2.25's hashers on this
// machine for "ﬁnch-lètmein" (a password NFKC would change).
const FINCH = '\ufb01nch-l\u00e8tmein';
const VECTORS = [
  ['md5', 'l\u00e8tmein', 'md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3'],
  ['md5', FINCH, 'md5$CbIHyvJWFmK9lEsrEFe6xb$b12dd40741f0834da97130ae29b46f70'],
  ['sha1', FINCH, 'sha1$6TCYTl2XVPQFuOBPvfkJgS$1e0fdcfceac99e4027d6da4b06c0ac1b902e351a'],
  ['unsalted_md5', FINCH, '5b1081a09aadb2158c98d98af641ad2f'],
  ['unsalted_md5', FINCH, 'md5$$5b1081a09aadb2158c98d98af641ad2f'],
  ['unsalted_sha1', FINCH, 'sha1$$8865c8e0f3a8ffed58c30f6bb056fbcdd5a9f9d1'],
] as const;

describe('Django salted and unsalted md5 and sha1', () => {
  it.each(VECTORS)('%s: %s verifies and asks for a rehash', async (algorithm, password, stored) => {
    expect(algorithmOf(stored)).toBe(algorithm);
    expect(await verifyPassword(password, stored)).toEqual({ ok: true, rehash: true });
  });

  it.each(VECTORS)('%s: a wrong password, or the NFKC spelling of the right one, fails', async (_algorithm, password, stored) => {
    expect(await verifyPassword(`${password}x`, stored)).toEqual({ ok: false, rehash: false });
    expect(await verifyPassword('', stored)).toEqual({ ok: false, rehash: false });
    if (password.normalize('NFKC') !== password) expect((await verifyPassword(password.normalize('NFKC'), stored)).ok).toBe(false);
  });

  it('calls malformed strings unsupported', () => {
    for (const bad of [
      'md5$$3f86d0d3d465b7b458c231bf3555c0e3x',
      'md5$seasalt$3F86D0D3D465B7B458C231BF3555C0E3',
      'md5$seasalt$3f86d0d3',
      'sha1$$8865c8e0f3a8ffed58c30f6bb056fbcd',
      'sha1$salt$5b1081a09aadb2158c98d98af641ad2f',
      '5b1081a09aadb2158c98d98af641ad2g',
    ]) {
      expect(algorithmOf(bad), bad).toBe('unsupported');
    }
  });
});

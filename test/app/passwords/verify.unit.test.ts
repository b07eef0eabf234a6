import { beforeAll, describe, expect, it } from 'vitest';
import { algorithmOf, hashPassword, MAX_PASSWORD_BYTES, verifyPassword } from '../../../src/app/passwords/index.js';

const FAILED = { ok: false, rehash: false };
const PASSWORD = 'wonderland-123';
let current: string;
beforeAll(async () => {
  current = await hashPassword(PASSWORD);
});

describe('verifyPassword: what never verifies', () => {
  it('null (unknown user, or no password): fails, even for the dummy hash\'s password or an empty one', async () => {
    for (const password of ['', PASSWORD, 'tokenledger-dummy-password']) expect(await verifyPassword(password, null)).toEqual(FAILED);
    expect(algorithmOf(null)).toBe('unusable');
  });

  it('Django\'s unusable passwords (`!…`, `!`), crypt, unknown prefixes and junk: fail, never throw', async () => {
    const cases: [string, string][] = [
      ['!ZvdgBf19QbGP5GEe1W8ZKqgmeTfRy8m7zZD31kyx', 'unusable'],
      ['!', 'unusable'],
      [`!${current}`, 'unusable'],
      ['crypt$$GBAIoaV0oRFjc', 'unsupported'],
      ['crypt$$ab$GBAIoaV0oRFjc', 'unsupported'],
      ['sha512$salt$abc', 'unsupported'],
      ['', 'unsupported'],
      ['plain', 'unsupported'],
      [PASSWORD, 'unsupported'],
      ['$argon2id$v=19$m=65536,t=3,p=4$abc$def', 'unsupported'],
      ['$$$$', 'unsupported'],
      ['\u0000'.repeat(200), 'unsupported'],
    ];
    for (const [stored, algorithm] of cases) {
      expect(algorithmOf(stored), stored).toBe(algorithm);
      expect(await verifyPassword(PASSWORD, stored), stored).toEqual(FAILED);
    }
    // The crypt string is Django's DES crypt of "secret": known, and still refused.
    expect(await verifyPassword('secret', 'crypt$$GBAIoaV0oRFjc')).toEqual(FAILED);
  });

  it('a candidate over 4096 UTF-8 bytes fails against any stored string, even when its first 4096 bytes are right', async () => {
    const long = 'x'.repeat(MAX_PASSWORD_BYTES);
    const stored = await hashPassword(long);
    expect(await verifyPassword(long, stored)).toEqual({ ok: true, rehash: false });
    expect(await verifyPassword(`${long}x`, stored)).toEqual(FAILED);
    expect(await verifyPassword(`${PASSWORD}${'\u20ac'.repeat(1366)}`, current)).toEqual(FAILED);
    expect(await verifyPassword('x'.repeat(1_000_000), null)).toEqual(FAILED);
  });
});

describe('verifyPassword: the work a failure costs', () => {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  /** CPU time of the whole process (the thread pool included), in ms: other processes' load does not move it. */
  async function cpuOf(run: () => Promise<unknown>): Promise<number> {
    const before = process.cpuUsage();
    await run();
    const { user, system } = process.cpuUsage(before);
    return (user + system) / 1000;
  }

  // A behaviour check, not a benchmark (bench:passwords measures wall time): without the dummy
  // verify each of these costs microseconds to a millisecond, 30x and more below the bound here.
  it('every failing path costs about one verify at today\'s cost, like a wrong password for a current hash', async () => {
    const paths: Record<string, () => Promise<unknown>> = {
      'wrong password, current hash': () => verifyPassword('wrong', current),
      'unknown user (null)': () => verifyPassword('wrong', null),
      unusable: () => verifyPassword('wrong', '!ZvdgBf19QbGP5GEe1W8ZKqgmeTfRy8m7zZD31kyx'),
      unsupported: () => verifyPassword('wrong', 'crypt$$GBAIoaV0oRFjc'),
      malformed: () => verifyPassword('wrong', '$argon2id$v=19$m=19456,t=2,p=1$$'),
      'over-long candidate': () => verifyPassword('x'.repeat(100_000), current),
      'wrong password, unsalted md5': () => verifyPassword('wrong', '5b1081a09aadb2158c98d98af641ad2f'),
      'wrong password, salted sha1': () => verifyPassword('wrong', 'sha1$6TCYTl2XVPQFuOBPvfkJgS$1e0fdcfceac99e4027d6da4b06c0ac1b902e351a'),
      'wrong password, pbkdf2 at 1 iteration': () => verifyPassword('wrong', 'pbkdf2_sha256$1$salt$mf2Nwi7lNl0wGAk8dwMtXJCbBfOomtPiYJ5w6XcT2us='),
    };
    const costs: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
    for (const run of Object.values(paths)) await run();
    for (let round = 0; round < 5; round++) {
      for (const [name, run] of Object.entries(paths)) costs[name]!.push(await cpuOf(run));
    }
    const reference = median(costs['wrong password, current hash']!);
    for (const [name, values] of Object.entries(costs)) {
      const ratio = median(values) / reference;
      const label = `${name}: ${median(values).toFixed(1)} ms of CPU vs ${reference.toFixed(1)} ms`;
      expect(ratio, label).toBeGreaterThan(0.6);
      expect(ratio, label).toBeLessThan(1.6);
    }
  });
});

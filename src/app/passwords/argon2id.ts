import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Algorithm, Options, ParsedHashOptions, Version } from '@node-rs/argon2';
import { MAX_MEMORY_BYTES, type Recognised } from './scheme.js';

type Argon2 = typeof import('@node-rs/argon2');

// Loaded on first use: most CLI commands never touch a password, and start-up time is budgeted.
const require = createRequire(import.meta.url);
let binding: Argon2 | undefined;
/** @node-rs/argon2: a prebuilt binary from the npm registry, no install script; its work runs on libuv's thread pool. */
export const argon2 = (): Argon2 => (binding ??= require('@node-rs/argon2') as Argon2);

// The package declares these as `const enum`s, which exist for the compiler only (the runtime
// objects are empty), so the values are spelt out here.
export const ARGON2I = 1 as Algorithm;
export const ARGON2ID = 2 as Algorithm;
const VERSION_0x13 = 1 as Version;

/** OWASP's minimum for argon2id: 19 MiB, two passes, one lane. */
export const ARGON2ID_COST = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
const OUTPUT_BYTES = 32;
const MIN_SALT_BYTES = 16;
const OPTIONS: Options = { algorithm: ARGON2ID, version: VERSION_0x13, outputLen: OUTPUT_BYTES, ...ARGON2ID_COST };

// tokenledger's own schemes compare passwords as Unicode text: "é" typed precomposed or combined is one password.
const normalised = (password: string) => password.normalize('NFKC');

/** Argon2id in PHC string format, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, with a fresh 16-byte salt. */
export const hashArgon2id = (password: string): Promise<string> => argon2().hash(normalised(password), OPTIONS);

/** The parameters of an argon2 PHC string, or null when it does not parse or asks for too much memory. */
export function argon2Parameters(phc: string): ParsedHashOptions | null {
  try {
    const parsed = argon2().parseOptions(phc);
    return parsed.memoryCost * 1024 <= MAX_MEMORY_BYTES ? parsed : null;
  } catch {
    return null;
  }
}

const isCurrent = (p: ParsedHashOptions) =>
  p.algorithm === ARGON2ID &&
  p.version === VERSION_0x13 &&
  p.memoryCost === ARGON2ID_COST.memoryCost &&
  p.timeCost === ARGON2ID_COST.timeCost &&
  p.parallelism === ARGON2ID_COST.parallelism &&
  p.outputLen === OUTPUT_BYTES &&
  p.saltLen >= MIN_SALT_BYTES;

/** tokenledger's argon2id strings, today's parameters or older ones. */
export function recogniseArgon2id(stored: string): Recognised | null {
  if (!stored.startsWith('$argon2id$')) return null;
  const parameters = argon2Parameters(stored);
  if (parameters === null || parameters.algorithm !== ARGON2ID) return null;
  return {
    algorithm: 'argon2id',
    current: isCurrent(parameters),
    // The library compares the derived hash in constant time.
    verify: (password) => argon2().verify(stored, normalised(password)),
  };
}

// The string every failing path verifies against. Its password is random and thrown away; its
// parameters are today's, so a failure costs what a known user's wrong password costs. Made on
// first use, not at import, so that CLI processes that never verify do not pay for it.
let dummy: Promise<string> | undefined;

/** One verify at today's cost, whose answer is ignored. */
export async function dummyVerify(password: string): Promise<void> {
  // A failure to make it is not remembered: the next call tries again.
  dummy ??= argon2()
    .hash(randomBytes(32), OPTIONS)
    .catch((error: unknown) => {
      dummy = undefined;
      throw error;
    });
  await argon2().verify(await dummy, normalised(password));
}

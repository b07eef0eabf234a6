import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';

/** What a sealed field reads as once its key is gone (user deleted, or a superseded password hash). */
export const ERASED = '[erased]';
/** What a sealed field reads as when its key exists but the ciphertext does not open (edited bytes). */
export const UNREADABLE = '[unreadable]';

const PREFIX = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED = /^sealed:v1:([up][A-Za-z0-9_-]{22}):([A-Za-z0-9_-]+)$/;

export type KeyKind = 'user' | 'password';

/**
 * Random bytes from a pool the CSPRNG refills 4 KiB at a time: an import makes a key id, a secret
 * and an IV or three per user, and one call into the CSPRNG per 12 bytes costs more than the AES.
 * Each caller gets a copy, and the bytes handed out are zeroed in the pool.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

function random(size: number): Buffer {
  if (used + size > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + size));
  pool.fill(0, used, used + size);
  used += size;
  return out;
}

/** The base64url digits in ASCII order, so that a key id's time prefix sorts as the time does. */
const SORTED_DIGITS = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';

/**
 * A fresh key id: `u`/`p`, the time of its making in milliseconds (48 bits, 8 digits that sort as
 * the time does) and 80 random bits (14 digits). It names a key, never a person. Time-ordered, so
 * that the keys a batch makes (an import's thousands) sit side by side in the vault's key index
 * rather than on every page of it; the time says no more than the `at` of the event that made the key.
 */
export function newKeyId(kind: KeyKind): string {
  let time = Date.now();
  let prefix = '';
  for (let i = 0; i < 8; i++) {
    prefix = SORTED_DIGITS[time % 64]! + prefix;
    time = Math.floor(time / 64);
  }
  return (kind === 'user' ? 'u' : 'p') + prefix + random(10).toString('base64url');
}

export function newSecret(): Buffer {
  return random(32);
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

export function isErased(value: unknown): boolean {
  return value === ERASED;
}

/** The key id a sealed value names, or null for anything else. */
export function keyIdOf(value: unknown): string | null {
  if (!isSealed(value)) return null;
  return SEALED.exec(value)?.[1] ?? null;
}

/** `sealed:v1:<keyId>:<base64url(iv ‖ ciphertext ‖ tag)>`, AES-256-GCM over the value's JSON, the prefix as AAD. */
export function seal(value: unknown, keyId: string, secret: Buffer): string {
  const iv = random(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  cipher.setAAD(Buffer.from(`${PREFIX}${keyId}`));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${PREFIX}${keyId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/**
 * The value a sealed field holds; ERASED when `secret` is missing (shredded), UNREADABLE when the
 * bytes do not open with it. Anything that is not a sealed string is returned as it is (events
 * written before sealing, and fields that are never sealed).
 */
export function unseal(value: unknown, secret: Buffer | undefined): unknown {
  if (!isSealed(value)) return value;
  const match = SEALED.exec(value);
  if (!match) return UNREADABLE;
  if (secret === undefined) return ERASED;
  const raw = Buffer.from(match[2]!, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) return UNREADABLE;
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${PREFIX}${match[1]}`));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(text);
  } catch {
    return UNREADABLE;
  }
}

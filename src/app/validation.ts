import { z } from 'zod';
import { DomainError, parseDuration } from '../domain/index.js';

/** Django's default username rule: letters, digits and @/./+/-/_, at most 150 characters. */
export const usernameSchema = z
  .string()
  .min(1, 'Username may not be blank.')
  .max(150, 'Username has at most 150 characters.')
  .regex(/^[\w.@+-]+$/u, 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.');

export const tokenNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'A token name has 1 to 64 letters, digits, ".", "_" or "-", and starts with a letter or digit.');

export const scopeSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:*-]{1,64}$/, 'A scope has 1 to 64 letters, digits or "_.:*-" (for example tokens:read).');

/** Parses with a schema, turning its first issue into a DomainError the boundary can print. */
export function parse<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new DomainError('invalid_input', `${field}: ${result.error.issues[0]?.message ?? 'invalid value'}`, { field });
}

export function parseDurationInput(text: string, field: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new DomainError('invalid_input', `${field}: "${text}" is not a duration (use 90d, 12h, 10m, 30s or 0; at most 36500d)`, { field });
  return ms;
}

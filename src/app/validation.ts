import { DomainError, FIELD_MESSAGES, parseDuration } from '../domain/index.js';

/**
 * A string rule with zod's `safeParse` shape. Plain regexes rather than zod here: this module is
 * on the path of every CLI command, and importing zod would take much of the CLI's start-up
 * budget (bench/README.md). HTTP request bodies are validated with zod schemas in src/http.
 */
export interface StringRule {
  safeParse(value: unknown): { success: true; data: string } | { success: false; message: string };
}

function rule(pattern: RegExp, message: string, blank = message): StringRule {
  return {
    safeParse(value) {
      if (typeof value !== 'string') return { success: false, message: FIELD_MESSAGES.notString };
      if (value === '') return { success: false, message: blank };
      return pattern.test(value) ? { success: true, data: value } : { success: false, message };
    },
  };
}

/** Django's default username rule: letters, digits and @/./+/-/_, at most 150 characters. */
export const usernameSchema = rule(
  /^[\w.@+-]{1,150}$/u,
  'Enter a valid username of at most 150 characters. This value may contain only letters, numbers, and @/./+/-/_ characters.',
  'Username may not be blank.',
);

export const tokenNameSchema = rule(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  'A token name has 1 to 64 letters, digits, ".", "_" or "-", and starts with a letter or digit.',
);

export const scopeSchema = rule(/^[A-Za-z0-9_.:*-]{1,64}$/, 'A scope has 1 to 64 letters, digits or "_.:*-" (for example tokens:read).');

/**
 * Bounds on free text and lists a caller writes into a user's stream, which keeps them for good
 * and reads them back on every fold and lookup (review L8). DRF's words for the refusals.
 */
export const MAX_TEXT = 1024;
export const MAX_SCOPES = 64;

/** A description or a reason: null, or a string of at most MAX_TEXT characters. */
export function boundedText(value: string | null | undefined, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (value.length > MAX_TEXT) {
    throw new DomainError('invalid_input', `${field}: Ensure this field has no more than ${MAX_TEXT} characters.`, { field });
  }
  return value;
}

/** A list of scopes of at most MAX_SCOPES entries (checked before each entry is). */
export function boundedScopes(scopes: readonly unknown[] | undefined): readonly unknown[] {
  const list = scopes ?? [];
  if (list.length > MAX_SCOPES) {
    throw new DomainError('invalid_input', `scopes: Ensure this field has no more than ${MAX_SCOPES} elements.`, { field: 'scopes' });
  }
  return list;
}

/** Checks a value against a rule, turning a failure into a DomainError the boundary can print. */
export function parse(schema: StringRule, value: unknown, field: string): string {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new DomainError('invalid_input', `${field}: ${result.message}`, { field });
}

export function parseDurationInput(text: string, field: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new DomainError('invalid_input', `${field}: "${text}" is not a duration (use 90d, 12h, 10m, 30s or 0; at most 36500d)`, { field });
  return ms;
}

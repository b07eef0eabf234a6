import { FIELD_MESSAGES } from '../domain/drf-messages.js';
import type { Body } from './body.js';
import { HttpError } from './errors.js';

type Data = { kind: 'object'; get: (name: string) => unknown } | { kind: 'error'; errors: Record<string, string[]> };

function pythonType(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return 'dict';
}

/** DRF's `Serializer.to_internal_value` preamble: the data must be a dictionary. */
function asData(body: Body): Data {
  if (body.kind === 'form') return { kind: 'object', get: (name) => body.fields.get(name)?.at(-1) };
  const value = body.value;
  if (value === null) return { kind: 'error', errors: { non_field_errors: ['No data provided'] } };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'error', errors: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(value)}.`] } };
  }
  const object = value as Record<string, unknown>;
  return { kind: 'object', get: (name) => (Object.hasOwn(object, name) ? object[name] : undefined) };
}

/**
 * DRF's `CharField` (required, not blank, not null): the error message for `value`, or its
 * string. Numbers are accepted and turned into strings, as `str(data)` does.
 */
function charField(value: unknown, trim: boolean): { error: string } | { value: string } {
  if (value === undefined) return { error: FIELD_MESSAGES.required };
  if (value === null) return { error: FIELD_MESSAGES.null };
  if (typeof value !== 'string' && typeof value !== 'number') return { error: FIELD_MESSAGES.notString };
  const text = String(value);
  if (text === '' || (trim && text.trim() === '')) return { error: FIELD_MESSAGES.blank };
  if (text.includes('\0')) return { error: 'Null characters are not allowed.' };
  const surrogate = /[\uD800-\uDFFF]/.exec(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
  if (surrogate) return { error: `Surrogate characters are not allowed: U+${surrogate[0].charCodeAt(0).toString(16).toUpperCase()}.` };
  return { value: trim ? text.trim() : text };
}

/**
 * Validates named character fields in DRF's order and shape: every field's error at once, keyed
 * by field name in declaration order; `trim` says which fields are stripped of whitespace.
 */
export function charFields<K extends string>(body: Body, fields: Record<K, { trim: boolean }>): Record<K, string> {
  const data = asData(body);
  if (data.kind === 'error') throw new HttpError(400, data.errors);
  const errors: Record<string, string[]> = {};
  const values = {} as Record<K, string>;
  for (const [name, { trim }] of Object.entries(fields) as [K, { trim: boolean }][]) {
    const result = charField(data.get(name), trim);
    if ('error' in result) errors[name] = [result.error];
    else values[name] = result.value;
  }
  if (Object.keys(errors).length > 0) throw new HttpError(400, errors);
  return values;
}

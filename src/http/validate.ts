import type { z } from 'zod';
import { FIELD_MESSAGES } from '../domain/drf-messages.js';
import type { Body } from './body.js';
import { HttpError } from './errors.js';

const PYTHON_TYPES: Record<string, string> = { string: 'str', number: 'int', boolean: 'bool', object: 'dict' };

function pythonType(input: unknown): string {
  if (Array.isArray(input)) return 'list';
  if (typeof input === 'number' && !Number.isInteger(input)) return 'float';
  return PYTHON_TYPES[typeof input] ?? 'NoneType';
}

/** zod's issues in DRF's words, so a client sees the messages a DRF serializer would give. */
function drfMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return FIELD_MESSAGES.required;
    if (issue.input === null) return FIELD_MESSAGES.null;
    switch (issue.expected) {
      case 'string':
        return FIELD_MESSAGES.notString;
      case 'boolean':
        return 'Must be a valid boolean.';
      case 'number':
      case 'int':
        return 'A valid integer is required.';
      case 'array':
        return `Expected a list of items but got type "${pythonType(issue.input)}".`;
      case 'object':
        return `Invalid data. Expected a dictionary, but got ${pythonType(issue.input)}.`;
    }
  }
  if (issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1) return FIELD_MESSAGES.blank;
  return undefined;
}

/**
 * Parses a JSON request body with a zod schema. Errors come back as DRF's 400 body: each field's
 * messages under its name, in the order of the body's fields; whole-body errors under
 * `non_field_errors`.
 */
export function validate<T>(schema: z.ZodType<T>, body: Body): T {
  const value = body.kind === 'json' ? body.value : Object.fromEntries([...body.fields].map(([k, v]) => [k, v.at(-1)]));
  if (value === null) throw new HttpError(400, { non_field_errors: ['No data provided'] });
  const result = schema.safeParse(value, { error: drfMessage });
  if (result.success) return result.data;
  const errors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const field = issue.path.length === 0 ? 'non_field_errors' : String(issue.path[0]);
    (errors[field] ??= []).push(issue.message);
  }
  throw new HttpError(400, errors);
}

/** Query-string parameters with a zod schema: the same DRF-shaped 400 on a bad value. */
export function validateQuery<T>(schema: z.ZodType<T>, query: Record<string, string | string[] | undefined>): T {
  const flat = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) : v]));
  return validate(schema, { kind: 'json', value: flat });
}

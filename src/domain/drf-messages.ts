import type { Outcome } from './record.js';

/*
 * DRF's words, in one place: what the middleware answers, what `token verify` says, and what the
 * HTTP API's errors read. A DRF client matches on these strings, so they are copied word for word
 * and never change with the keyword.
 */

/** Authentication (SPEC §4): TokenAuthentication's messages, and ours for a projection that cannot be read. */
export const MESSAGES = {
  notProvided: 'Authentication credentials were not provided.',
  noCredentials: 'Invalid token header. No credentials provided.',
  spaces: 'Invalid token header. Token string should not contain spaces.',
  invalidCharacters: 'Invalid token header. Token string should not contain invalid characters.',
  invalidToken: 'Invalid token.',
  expired: 'Token has expired.',
  inactive: 'User inactive or deleted.',
  forbidden: 'You do not have permission to perform this action.',
  unavailable: 'Authentication service unavailable.',
} as const;

/** What a key's outcome reads as, for every outcome that refuses it. */
export const OUTCOME_MESSAGES: Record<Exclude<Outcome, 'valid'>, string> = {
  not_found: MESSAGES.invalidToken,
  expired: MESSAGES.expired,
  inactive: MESSAGES.inactive,
  forbidden: MESSAGES.forbidden,
  unavailable: MESSAGES.unavailable,
};

/** DRF's generic API errors (`rest_framework.exceptions`) and the obtain-token serializer's refusal. */
export const API_MESSAGES = {
  notFound: 'Not found.',
  serverError: 'A server error occurred.',
  serviceUnavailable: 'Service temporarily unavailable, try again later.',
  unableToLogIn: 'Unable to log in with provided credentials.',
} as const;

/** DRF's field errors (`CharField` and friends). */
export const FIELD_MESSAGES = {
  required: 'This field is required.',
  null: 'This field may not be null.',
  blank: 'This field may not be blank.',
  notString: 'Not a valid string.',
} as const;

import type { AuthResult } from './authenticate.js';
import { MESSAGES } from '../domain/drf-messages.js';

/** A refusal, ready to write: bodies are serialised once, not per request. */
export interface Refusal {
  status: 401 | 403 | 503;
  body: string;
  /** The same body as bytes, for frameworks that would otherwise add a charset to a string body. */
  bytes: Buffer;
  /** 401s carry `WWW-Authenticate: <keyword>`, as DRF's `authenticate_header` does. */
  challenge: boolean;
  /** 503s carry `Retry-After`. */
  retry: boolean;
}

function refusal(status: Refusal['status'], detail: string): Refusal {
  const body = JSON.stringify({ detail });
  return Object.freeze({ status, body, bytes: Buffer.from(body), challenge: status === 401, retry: status === 503 });
}

const NOT_PROVIDED = refusal(401, MESSAGES.notProvided);
const NO_CREDENTIALS = refusal(401, MESSAGES.noCredentials);
const SPACES = refusal(401, MESSAGES.spaces);
const INVALID_CHARACTERS = refusal(401, MESSAGES.invalidCharacters);
const INVALID_TOKEN = refusal(401, MESSAGES.invalidToken);
const EXPIRED = refusal(401, MESSAGES.expired);
const INACTIVE = refusal(401, MESSAGES.inactive);
const FORBIDDEN = refusal(403, MESSAGES.forbidden);
// Fail closed, and say nothing of why: the cause goes to `onResult`, never into a body.
const UNAVAILABLE = refusal(503, MESSAGES.unavailable);

/**
 * The one mapping from results to responses: `admit` lets the request through (with a user
 * when the key was valid), anything else is the refusal to send. A failed attempt is refused
 * even where anonymous requests are allowed, as in DRF.
 */
export function responseFor(result: AuthResult, required: boolean): 'admit' | Refusal {
  switch (result.kind) {
    case 'none':
      return required ? NOT_PROVIDED : 'admit';
    case 'no_credentials':
      return NO_CREDENTIALS;
    case 'spaces':
      return SPACES;
    case 'invalid_characters':
      return INVALID_CHARACTERS;
    case 'valid':
      return 'admit';
    case 'not_found':
      return INVALID_TOKEN;
    case 'expired':
      return EXPIRED;
    case 'inactive':
      return INACTIVE;
    case 'forbidden':
      return FORBIDDEN;
    case 'unavailable':
      return UNAVAILABLE;
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

import { headerParser, type HeaderResult } from './header.js';
import { keyVerifier, type KeyLookup, type Verification } from './verify.js';

/**
 * Everything a request's authentication can end in, one `kind` each: the header's own
 * failures, or the verdict on its key. A framework maps these to responses in one exhaustive switch.
 */
export type AuthResult = Exclude<HeaderResult, { kind: 'key' }> | Verification;

export interface AuthenticatorOptions {
  projection: KeyLookup;
  /** Default `Token`. */
  keyword?: string;
  /** Default `tl`. */
  tokenPrefix?: string;
  /** Epoch milliseconds; default `Date.now`. */
  clock?: () => number;
  /** Default 250 ms. */
  lookupTimeoutMs?: number;
}

export const DEFAULT_LOOKUP_TIMEOUT_MS = 250;

/**
 * Framework-free request authentication: give it the raw `Authorization` value (as Node
 * decodes it, latin-1) and the scopes the route needs; it answers with an `AuthResult`, at once
 * when no lookup is needed or the projection is in process memory, else as a promise.
 */
export function authenticator(options: AuthenticatorOptions): (header: string | undefined, scopes?: readonly string[]) => AuthResult | Promise<AuthResult> {
  const parse = headerParser(options.keyword ?? 'Token');
  const verify = keyVerifier({
    projection: options.projection,
    tokenPrefix: options.tokenPrefix ?? 'tl',
    clock: options.clock ?? Date.now,
    lookupTimeoutMs: options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
  });
  return (header, scopes = []) => {
    const parsed = parse(header);
    if (parsed.kind !== 'key') return parsed;
    return verify(parsed.key, scopes);
  };
}

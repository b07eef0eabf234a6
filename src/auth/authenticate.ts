import { headerParser, type HeaderResult } from './header.js';
import { keyVerifierWith, type KeyLookup, type Verification } from './verify.js';

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

/** An authentication that needed a lookup, handed over when it is done. */
export type AuthResultCallback = (result: AuthResult) => void;

/**
 * Framework-free request authentication, callback form: give it the raw `Authorization` value
 * (as Node decodes it, latin-1), the scopes the route needs and a callback. A result that needs
 * no lookup is returned at once; otherwise it returns undefined and the callback gets the result,
 * exactly once (without a promise when the projection has `lookupWith`, as the built-in ones do).
 */
export function authenticatorWith(options: AuthenticatorOptions): (header: string | undefined, scopes: readonly string[], callback: AuthResultCallback) => AuthResult | undefined {
  const parse = headerParser(options.keyword ?? 'Token');
  const verify = keyVerifierWith({
    projection: options.projection,
    tokenPrefix: options.tokenPrefix ?? 'tl',
    clock: options.clock ?? Date.now,
    lookupTimeoutMs: options.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
  });
  return (header, scopes, callback) => {
    const parsed = parse(header);
    if (parsed.kind !== 'key') return parsed;
    return verify(parsed.key, scopes, callback);
  };
}

/** The promise form of an `authenticatorWith` function: a result at once, or a promise that never rejects. */
export function promisedAuthenticator(
  authenticate: ReturnType<typeof authenticatorWith>,
): (header: string | undefined, scopes?: readonly string[]) => AuthResult | Promise<AuthResult> {
  return (header, scopes = []) => {
    let settle: AuthResultCallback | null = null;
    let early: AuthResult | undefined;
    const now = authenticate(header, scopes, (result) => (settle === null ? (early = result) : settle(result)));
    if (now !== undefined) return now;
    // A lookup that called back before returning (a synchronous `lookupWith`).
    if (early !== undefined) return early;
    return new Promise<AuthResult>((resolve) => (settle = resolve));
  };
}

/**
 * Framework-free request authentication: give it the raw `Authorization` value (as Node
 * decodes it, latin-1) and the scopes the route needs; it answers with an `AuthResult`, at once
 * when no lookup is needed, else as a promise (which never rejects).
 */
export function authenticator(options: AuthenticatorOptions): (header: string | undefined, scopes?: readonly string[]) => AuthResult | Promise<AuthResult> {
  return promisedAuthenticator(authenticatorWith(options));
}

export { headerParser, type HeaderResult } from './header.js';
export { keyVerifier, type KeyLookup, type Verification, type VerifyOptions } from './verify.js';
export { LookupTimeoutError } from './time-bound.js';
export { authenticator, DEFAULT_LOOKUP_TIMEOUT_MS, type AuthResult, type AuthenticatorOptions } from './authenticate.js';

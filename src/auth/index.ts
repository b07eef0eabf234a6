export { headerParser, type HeaderResult } from './header.js';
export { keyVerifier, LookupTimeoutError, type KeyLookup, type Verification, type VerifyOptions } from './verify.js';
export { authenticator, DEFAULT_LOOKUP_TIMEOUT_MS, type AuthResult, type AuthenticatorOptions } from './authenticate.js';

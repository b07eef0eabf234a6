export { headerParser, type HeaderResult } from './header.js';
export { keyVerifier, type KeyLookup, type Verification, type VerifyOptions } from './verify.js';
export { LookupTimeoutError } from './time-bound.js';
export { authenticator, DEFAULT_LOOKUP_TIMEOUT_MS, type AuthResult, type AuthenticatorOptions } from './authenticate.js';
export { responseFor, type Refusal } from './responses.js';
export { requestAuthenticator, type AuthUser, type AuthInfo, type TokenAuthOptions, type Decision, type RequestAuthenticator, type RefusalHeaders } from './adapter.js';

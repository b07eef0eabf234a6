export { tokenAuth, type TokenAuthOptions, type TokenAuthState, type AuthUser, type AuthInfo } from './token-auth.js';
export { MESSAGES } from '../domain/drf-messages.js';
export type { AuthResult } from '../auth/authenticate.js';
export type { KeyLookup } from '../auth/verify.js';
export type { TokenRecord } from '../domain/record.js';

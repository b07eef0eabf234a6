export { Ledger, openLedger } from './app/ledger.js';
export type { Actor, LedgerDeps } from './app/context.js';
export type { TokenView, IssuedToken, IssueTokenInput, RotateTokenInput, RevokeTokenInput } from './app/tokens.js';
export type { UserView, RegisterUserInput } from './app/users.js';
export type { Verdict } from './app/queries.js';
export { loadSettings, ConfigError, type Settings } from './config.js';
export { DomainError, type DomainErrorCode } from './domain/errors.js';
export type { TokenRecord, Outcome } from './domain/record.js';
export { ConcurrencyError, StoreUnavailableError, type EventStore, type ExpectedState, type RecordedEvent } from './eventstore/port.js';

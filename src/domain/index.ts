export * from './drf-messages.js';
export * from './duration.js';
export * from './errors.js';
export * from './events.js';
export * from './hash-chain.js';
export * from './record.js';
export * from './token-format.js';
export * from './user-decider.js';

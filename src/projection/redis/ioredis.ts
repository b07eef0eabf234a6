/**
 * ioredis, for the rest of tokenledger: import it from here, not from 'ioredis', so that loading
 * it never leaves String.prototype slow (see src/auth/fast-strings.ts).
 */
import '../../auth/fast-strings.js';

export { Cluster, Command, Redis } from 'ioredis';
export type { ChainableCommander, RedisOptions } from 'ioredis';

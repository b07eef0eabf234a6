/**
 * ioredis, for the rest of tokenledger: import it from here, not from 'ioredis'. Loading ioredis
 * leaves String.prototype slow for the whole process; this module repairs that as it loads it.
 */
import { restoreFastStringPrototype } from './string-prototype.js';

export { Cluster, Command, Redis } from 'ioredis';
export type { ChainableCommander, RedisOptions } from 'ioredis';

restoreFastStringPrototype();

/**
 * ioredis, for the rest of tokenledger: import it from here, not from 'ioredis', so that the
 * repair below always runs once ioredis is loaded.
 *
 * ioredis defines `class VerbatimString extends String` (its RESP3 decoder). Setting String.prototype
 * up as the prototype of a subclass's prototype leaves it in V8's dictionary mode (Node 20), and
 * V8 turns a prototype fast again only when a property store on an object that inherits from it
 * asks for that, which a program handling strings as primitives never does. Until then every
 * string method call in the process (`charCodeAt`, `slice`, `toLowerCase`, …: the Authorization
 * header parser, Koa, node:http) takes the slow generic property lookup. Measured: a 46-character
 * header parse went from 77 to 430 ns; `tokenledger serve` loads ioredis even on the memory
 * projection, so every deployment paid it. test/projection/string-prototype.e2e.test.ts checks it.
 */
export { Cluster, Command, Redis } from 'ioredis';
export type { ChainableCommander, RedisOptions } from 'ioredis';

/** One property store on an object inheriting from String.prototype: V8 then makes that prototype fast again. */
export function restoreFastStringPrototype(): void {
  const heir = Object.create(String.prototype) as { repaired?: boolean };
  heir.repaired = true;
}

restoreFastStringPrototype();

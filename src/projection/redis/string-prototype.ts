/**
 * Makes V8's String.prototype fast again after ioredis was loaded.
 *
 * ioredis defines `class VerbatimString extends String` (its RESP3 decoder). Setting String.prototype
 * up as the prototype of a subclass's prototype leaves it in V8's dictionary mode (Node 20), and
 * V8 turns a prototype fast again only when a property store on an object that inherits from it
 * asks for that, which a program handling strings as primitives never does. Until then every
 * string method call in the process (`charCodeAt`, `slice`, `toLowerCase`, …: the Authorization
 * header parser, Koa, node:http) takes the slow generic property lookup.
 *
 * One property store on an object inheriting from String.prototype makes V8 turn that prototype
 * fast, and keep it fast when a subclass is set up later: the repair works before or after
 * ioredis is loaded, and changes nothing else. tokenledger applies it where it loads ioredis
 * (./ioredis.ts); an application that loads ioredis itself calls it once, from `tokenledger`.
 * What it saves is in bench/README.md; test/projection/redis/string-prototype.e2e.test.ts checks
 * it with V8's own `%HasFastProperties`.
 */
export function restoreFastStringPrototype(): void {
  const heir = Object.create(String.prototype) as { repaired?: boolean };
  heir.repaired = true;
}

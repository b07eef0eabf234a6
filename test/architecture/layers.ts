/**
 * The rooms of the code and the arrows allowed between them: the one place where the layering of
 * docs/architecture.md is written down. A file belongs to the room whose path is the longest
 * prefix of its own; it may import files of its own room, and of the rooms its room points to.
 * test/architecture/layers.unit.test.ts reads every import (static, `export … from` and dynamic
 * `import()`) of src/, commands/ and projections/ and fails on any other arrow.
 *
 * An arrow that is missing here is a design question before it is an edit to this list.
 */
export const ARROWS: Record<string, readonly string[]> = {
  // Events, commands, deciders, token format, DRF's wording: pure, and nothing of ours.
  'src/domain': [],
  // The EventStore port and its adapters.
  'src/eventstore': ['src/domain'],
  // The key store for crypto-shredding, beside the event store.
  'src/eventstore/vault': ['src/domain', 'src/eventstore'],
  // The pure projection definitions shared by the Redis and memory stores.
  projections: ['src/domain', 'src/eventstore'],
  // The projector runtime and the lookup stores. It gets its settings as a narrow type of its own.
  'src/projection': ['src/domain', 'src/eventstore', 'src/eventstore/vault', 'projections'],
  // The query read model (SQL): users, tokens, digest history.
  'src/directory': ['src/domain', 'src/eventstore', 'projections'],
  // Settings from flags and environment; it checks Redis URLs with the projection's parser.
  'src/config': ['src/domain', 'src/projection'],
  // Application services: the only room that loads, decides, appends and waits.
  'src/app': ['src/domain', 'src/eventstore', 'src/eventstore/vault', 'src/projection', 'src/directory', 'src/config'],
  // Framework-free request authentication, and its framework adapters.
  'src/auth': ['src/domain'],
  'src/koa': ['src/auth', 'src/domain'],
  'src/express': ['src/auth', 'src/domain'],
  'src/fastify': ['src/auth', 'src/domain'],
  // The `serve` composition: it opens the projection the middleware reads, and mounts the routes and the admin console.
  'src/http': ['src/app', 'src/http/routes', 'src/admin', 'src/koa', 'src/auth', 'src/domain', 'src/config', 'src/projection'],
  // HTTP routes reach the stores only through src/app.
  'src/http/routes': ['src/app', 'src/http', 'src/koa', 'src/domain'],
  // The server-rendered admin console, served by `serve`.
  'src/admin': ['src/app', 'src/http', 'src/koa', 'src/auth', 'src/domain'],
  // The package entry (`tokenledger`): it re-exports the public API of every room.
  'src/index.ts': [
    'src/domain',
    'src/eventstore',
    'src/projection',
    'src/config',
    'src/app',
    'src/auth',
    'src/koa',
    'src/directory',
    'src/eventstore/vault',
  ],
  // Readers of other systems' data for `import` (a DRF project's database or dumpdata): they read and hand over, never append.
  'src/import': ['src/domain'],
  // oclif commands: parse, one call into src/app, print (`serve` starts src/http; `import` reads through src/import).
  commands: ['src/app', 'src/config', 'src/domain', 'src/http', 'src/import'],
};

/** The room a file (a path relative to the repository root) belongs to, or null. */
export function roomOf(file: string): string | null {
  let best: string | null = null;
  for (const room of Object.keys(ARROWS)) {
    const inside = file === room || file.startsWith(`${room}/`) || file.replace(/\.[cm]?[jt]s$/, '') === room.replace(/\.[cm]?[jt]s$/, '');
    if (inside && (best === null || room.length > best.length)) best = room;
  }
  return best;
}

/** Whether a file of room `from` may import a file of room `to`. */
export function allowed(from: string, to: string): boolean {
  return from === to || (ARROWS[from] ?? []).includes(to);
}

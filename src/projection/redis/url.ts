/*
 * What TOKENLEDGER_REDIS_URL names: one Redis, a Redis Cluster or a Sentinel-watched master.
 * Pure parsing, no driver: config.ts checks URLs with it on every CLI start.
 *
 *   redis://[[user]:pw@]host:port[/db]            rediss://… (TLS), handed to ioredis as is
 *   redis+cluster://[[user]:pw@]h1:p1,h2:p2,…     any reachable node finds the others
 *   redis+sentinel://[[user]:pw@]h1:p1,…/master[/db]
 */

export interface RedisEndpoint {
  host: string;
  port: number;
}

interface Auth {
  username?: string;
  password?: string;
}

export type RedisTopology =
  | { kind: 'single'; url: string }
  | ({ kind: 'cluster'; nodes: RedisEndpoint[] } & Auth)
  | ({ kind: 'sentinel'; sentinels: RedisEndpoint[]; name: string; db: number } & Auth);

/** A URL that cannot name a Redis; the message never holds the URL's password. */
export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

const MULTI = /^redis\+(cluster|sentinel):\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?$/;

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RedisUrlError(`the ${what} in the URL is not valid percent-encoding`);
  }
}

function endpoints(list: string, defaultPort: number): RedisEndpoint[] {
  return list.split(',').map((item) => {
    // [v6]:port, host:port or host alone.
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(item.trim());
    const port = Number(match?.[3] ?? defaultPort);
    if (!match || port < 1 || port > 65_535) throw new RedisUrlError(`"${item}" is not host:port`);
    return { host: match[1] ?? match[2]!, port };
  });
}

/** Parses TOKENLEDGER_REDIS_URL; throws RedisUrlError (without the password) when it names nothing. */
export function parseRedisUrl(url: string): RedisTopology {
  if (/^rediss?:\/\//.test(url)) return { kind: 'single', url };
  const match = MULTI.exec(url);
  if (!match) throw new RedisUrlError('expected redis://host:port, redis+cluster://h1:p1,h2:p2 or redis+sentinel://h1:p1/mastername');
  const [, kind, userinfo, hosts = '', path = ''] = match;
  const auth: Auth = {};
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user name');
    if (username !== '') auth.username = username;
    if (colon >= 0) auth.password = decode(userinfo.slice(colon + 1), 'password');
  }
  if (hosts === '') throw new RedisUrlError(`a redis+${kind} URL lists at least one host:port`);
  if (kind === 'cluster') {
    if (path !== '' && path !== '/') throw new RedisUrlError('a Redis Cluster has no databases: drop the path after the hosts');
    return { kind: 'cluster', nodes: endpoints(hosts, 6379), ...auth };
  }
  const [, name = '', db = '0', ...rest] = path.split('/');
  if (name === '' || rest.length > 0 || !/^\d{1,2}$/.test(db)) {
    throw new RedisUrlError('a redis+sentinel URL ends with /mastername (optionally /db), e.g. redis+sentinel://h1:26379/mymaster');
  }
  return { kind: 'sentinel', sentinels: endpoints(hosts, 26379), name: decode(name, 'master name'), db: Number(db), ...auth };
}

/**
 * Where a URL points, for messages: never its password. "127.0.0.1:6379",
 * "cluster 10.0.0.1:7000,10.0.0.2:7000", "mymaster via sentinels 10.0.0.1:26379".
 */
export function redisTarget(url: string): string {
  const list = (nodes: RedisEndpoint[]) => nodes.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');
  try {
    const topology = parseRedisUrl(url);
    if (topology.kind === 'cluster') return `cluster ${list(topology.nodes)}`;
    if (topology.kind === 'sentinel') return `${topology.name} via sentinels ${list(topology.sentinels)}`;
    const { hostname, port } = new URL(url);
    return `${hostname || '127.0.0.1'}:${port || '6379'}`;
  } catch {
    return 'the configured Redis';
  }
}

/**
 * Whether every key under `prefix` hashes to the slot of the prefix's hash tag: Redis hashes only
 * what lies between the first `{` and the first `}` after it, when that is not empty.
 */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open >= 0 && prefix.indexOf('}', open + 1) > open + 1;
}

/** The key prefix on a Redis Cluster when TOKENLEDGER_REDIS_PREFIX is not set. */
export const CLUSTER_DEFAULT_PREFIX = '{tokenledger}:';

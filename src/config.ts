import { parseDuration } from './domain/duration.js';
import { ConfigError } from './domain/errors.js';
import { CLUSTER_DEFAULT_PREFIX, hasHashTag, parseRedisUrl, RedisUrlError } from './projection/redis/url.js';

export { ConfigError };

export interface Settings {
  store: string;
  /**
   * The vault of crypto-shredding (TOKENLEDGER_VAULT): `sqlite:<path>`, `postgres://…?schema=S` or
   * `memory:`; null: beside the store (docs/privacy.md).
   */
  vault: string | null;
  redisUrl: string | null;
  redisPrefix: string;
  /**
   * Where the directory (the query read model) lives: `sqlite:<path>` or `postgres://…[?schema=]`;
   * null for the default beside the log (see src/directory/open.ts, docs/directory.md).
   */
  directory: string | null;
  tokenPrefix: string;
  host: string;
  port: number;
  keyword: string;
  loginTtlMs: number;
  /** Live login tokens per user (default 20): one more login retires the oldest, as Knox's users cap them. */
  loginLimit: number | null;
  /** Successful logins per user per window (default 20/min); one more is answered 429. null: off. */
  loginRate: { limit: number; windowMs: number } | null;
  loginThrottle: { limit: number; windowMs: number } | null;
  /**
   * Password checks (logins) in flight at once: per client address, and overall (null: twice
   * libuv's thread pool size). Beyond them a login is answered at once (429 / 503).
   */
  passwordChecks: { perAddress: number; overall: number | null };
  /**
   * Reverse proxies in front of `serve` whose `X-Forwarded-For` is trusted (default 0: none, the
   * client address is the socket's). With N, the client is the address the outermost of them saw.
   */
  trustedProxies: number;
  /**
   * How long a write waits for the event store's write lock when another process holds it
   * (TOKENLEDGER_WRITE_WAIT; SQLite). Unset: 5 s in `serve` (then 503), 30 s in the CLI.
   */
  writeWaitMs?: number;
  /** The admin console at /admin/ (TOKENLEDGER_ADMIN, default on). */
  admin: boolean;
  /** Lifetime of an admin console session token in ms (TOKENLEDGER_ADMIN_SESSION_TTL, default 1h). */
  adminSessionTtlMs: number;
  /** Who may read /api/schema/ and /api/docs/ (TOKENLEDGER_SCHEMA_ACCESS): `anyone` (default) or `staff`. */
  schemaAccess: 'anyone' | 'staff';
  /**
   * Bound on one projection lookup (TOKENLEDGER_LOOKUP_TIMEOUT, e.g. 250ms or 2s): past it the
   * request fails closed with 503. Unset: 250 ms.
   */
  lookupTimeoutMs?: number;
}

export const DEFAULT_STORE = 'sqlite:./data/tokenledger.db';

type Env = Record<string, string | undefined>;

const ON_OFF = new Map([
  ['on', true],
  ['true', true],
  ['1', true],
  ['off', false],
  ['false', false],
  ['0', false],
]);

function pick(flag: string | undefined, env: Env, ...names: string[]): string | undefined {
  if (flag !== undefined) return flag;
  for (const name of names) if (env[name] !== undefined && env[name] !== '') return env[name];
  return undefined;
}

// Plain checks rather than zod: config is loaded by every CLI command, and zod's import alone
// would take much of the CLI's start-up budget (bench/README.md).
function matching(value: string, pattern: RegExp, name: string, message: string): string {
  if (!pattern.test(value)) throw new ConfigError(`${name}: ${message}`);
  return value;
}

function integer(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new ConfigError(`${name}: "${text}" is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function optionalInteger(text: string | undefined, name: string, min: number, max: number): number | null {
  return text === undefined ? null : integer(text, name, min, max);
}

const THROTTLE_UNITS: Record<string, number> = { s: 1_000, sec: 1_000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000 };

function parseThrottle(text: string, name = 'TOKENLEDGER_LOGIN_THROTTLE', example = '5/min, 10/h'): Settings['loginThrottle'] {
  if (text === 'off') return null;
  const match = /^(\d+)\/(s|sec|m|min|h|hour)$/.exec(text);
  if (!match || Number(match[1]) < 1) throw new ConfigError(`${name}: "${text}" is not a rate (use ${example} or off)`);
  return { limit: Number(match[1]), windowMs: THROTTLE_UNITS[match[2]!]! };
}

/** The login rate is counted from the user's state, which keeps at most 100 login times of the last hour. */
function parseLoginRate(text: string): Settings['loginRate'] {
  const rate = parseThrottle(text, 'TOKENLEDGER_LOGIN_RATE', '20/min, 100/h');
  if (rate !== null && rate.limit > 100) throw new ConfigError(`TOKENLEDGER_LOGIN_RATE: "${text}" allows more than 100 logins per window (use at most 100, or off)`);
  return rate;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function checkedRedisUrl(url: string) {
  try {
    return parseRedisUrl(url);
  } catch (error) {
    if (error instanceof RedisUrlError) throw new ConfigError(`TOKENLEDGER_REDIS_URL: ${error.message}`);
    throw error;
  }
}

// The projection's atomic writes are Lua scripts over many keys, which a Redis Cluster runs only
// when all of them hash to one slot. A prefix without a hash tag is refused rather than rewritten:
// key names the user chose stay the key names Redis holds.
function clusterPrefix(prefix: string, cluster: boolean): string {
  if (cluster && !hasHashTag(prefix)) {
    throw new ConfigError(
      `TOKENLEDGER_REDIS_PREFIX: on a Redis Cluster the prefix needs a hash tag, e.g. {${prefix.replace(/:$/, '')}}: ` +
        '(every key of the projection must share one slot for its atomic writes)',
    );
  }
  return prefix;
}

/** Settings from flags, then the environment, then defaults (SPEC §1), validated once. */
export function loadSettings(flags: Partial<Record<keyof Settings, string | number>> = {}, env: Env = process.env): Settings {
  const store = pick(flags.store as string | undefined, env, 'TOKENLEDGER_STORE') ?? DEFAULT_STORE;
  if (!/^(sqlite|postgres|postgresql|kurrentdb|esdb):/.test(store)) {
    throw new ConfigError(`TOKENLEDGER_STORE: unsupported store "${redactUrl(store)}" (expected sqlite:<path>, postgres://… or kurrentdb://…)`);
  }
  const redisUrl = pick(flags.redisUrl as string | undefined, env, 'TOKENLEDGER_REDIS_URL', 'REDIS_URL') ?? null;
  if (redisUrl !== null && !/^(redis|rediss|redis\+cluster|redis\+sentinel):\/\//.test(redisUrl)) {
    throw new ConfigError(`TOKENLEDGER_REDIS_URL: unsupported URL "${redactUrl(redisUrl)}" (expected redis://host:port)`);
  }
  const directory = pick(flags.directory as string | undefined, env, 'TOKENLEDGER_DIRECTORY') ?? null;
  if (directory !== null && !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(directory)) {
    throw new ConfigError(`TOKENLEDGER_DIRECTORY: unsupported directory "${redactUrl(directory)}" (expected sqlite:<path> or postgres://…)`);
  }
  const cluster = redisUrl !== null && checkedRedisUrl(redisUrl).kind === 'cluster';
  const ttlText = pick(flags.loginTtlMs as string | undefined, env, 'TOKENLEDGER_LOGIN_TTL') ?? '10h';
  const loginTtlMs = parseDuration(ttlText);
  if (loginTtlMs === null) throw new ConfigError(`TOKENLEDGER_LOGIN_TTL: "${ttlText}" is not a duration (use 10h, 30m, 7d or 0)`);
  const limitText = pick(flags.loginLimit as string | undefined, env, 'TOKENLEDGER_LOGIN_LIMIT') ?? '20';
  const lookupText = pick(undefined, env, 'TOKENLEDGER_LOOKUP_TIMEOUT');
  const lookupMatch = lookupText === undefined ? null : /^(\d+)ms$/.exec(lookupText.trim());
  const lookupTimeoutMs = lookupText === undefined ? undefined : lookupMatch ? Number(lookupMatch[1]) : parseDuration(lookupText);
  if (lookupTimeoutMs === null || (lookupTimeoutMs !== undefined && (lookupTimeoutMs < 10 || lookupTimeoutMs > 60_000))) {
    throw new ConfigError(`TOKENLEDGER_LOOKUP_TIMEOUT: "${lookupText}" is not a duration from 10ms to 60s (use 250ms, 2s)`);
  }
  const waitText = pick(undefined, env, 'TOKENLEDGER_WRITE_WAIT');
  const writeWaitMs = waitText === undefined ? undefined : parseDuration(waitText);
  if (writeWaitMs === null || (writeWaitMs !== undefined && (writeWaitMs < 1_000 || writeWaitMs > 600_000))) {
    throw new ConfigError(`TOKENLEDGER_WRITE_WAIT: "${waitText}" is not a duration from 1s to 10m (use 5s, 30s)`);
  }
  const adminText = (pick(undefined, env, 'TOKENLEDGER_ADMIN') ?? 'on').toLowerCase();
  if (!ON_OFF.has(adminText)) throw new ConfigError(`TOKENLEDGER_ADMIN: "${adminText}" is not on or off`);
  const schemaAccess = (pick(undefined, env, 'TOKENLEDGER_SCHEMA_ACCESS') ?? 'anyone').toLowerCase();
  if (schemaAccess !== 'anyone' && schemaAccess !== 'staff') throw new ConfigError(`TOKENLEDGER_SCHEMA_ACCESS: "${schemaAccess}" is not anyone or staff`);
  const sessionText = pick(undefined, env, 'TOKENLEDGER_ADMIN_SESSION_TTL') ?? '1h';
  const adminSessionTtlMs = parseDuration(sessionText);
  if (adminSessionTtlMs === null || adminSessionTtlMs <= 0) {
    throw new ConfigError(`TOKENLEDGER_ADMIN_SESSION_TTL: "${sessionText}" is not a duration above 0 (use 1h, 30m or 8h)`);
  }
  const vault = pick(flags.vault as string | undefined, env, 'TOKENLEDGER_VAULT') ?? null;
  if (vault !== null && !/^(sqlite:|postgres(ql)?:\/\/|memory:$)/.test(vault)) {
    throw new ConfigError(`TOKENLEDGER_VAULT: unsupported vault "${redactUrl(vault)}" (expected sqlite:<path> or postgres://…)`);
  }
  return {
    store,
    vault,
    redisUrl,
    redisPrefix: clusterPrefix(
      matching(
        pick(undefined, env, 'TOKENLEDGER_REDIS_PREFIX') ?? (cluster ? CLUSTER_DEFAULT_PREFIX : 'tokenledger:'),
        /^\S+$/,
        'TOKENLEDGER_REDIS_PREFIX',
        'the prefix may not be blank or contain spaces',
      ),
      cluster,
    ),
    directory,
    tokenPrefix: matching(
      pick(undefined, env, 'TOKENLEDGER_TOKEN_PREFIX') ?? 'tl',
      /^[A-Za-z0-9]{1,16}$/,
      'TOKENLEDGER_TOKEN_PREFIX',
      'a token prefix has 1 to 16 letters or digits',
    ),
    host: pick(flags.host as string | undefined, env, 'HOST') ?? '127.0.0.1',
    port: integer(pick(flags.port?.toString(), env, 'PORT') ?? '8000', 'PORT', 0, 65535),
    keyword: matching(
      pick(undefined, env, 'TOKENLEDGER_KEYWORD') ?? 'Token',
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/,
      'TOKENLEDGER_KEYWORD',
      'the keyword is one word such as Token or Bearer',
    ),
    loginTtlMs,
    loginLimit: limitText === 'off' ? null : integer(limitText, 'TOKENLEDGER_LOGIN_LIMIT', 1, 10_000),
    loginRate: parseLoginRate(pick(undefined, env, 'TOKENLEDGER_LOGIN_RATE') ?? '20/min'),
    loginThrottle: parseThrottle(pick(undefined, env, 'TOKENLEDGER_LOGIN_THROTTLE') ?? '5/min'),
    passwordChecks: {
      perAddress: integer(pick(undefined, env, 'TOKENLEDGER_PASSWORD_CHECKS_PER_ADDRESS') ?? '2', 'TOKENLEDGER_PASSWORD_CHECKS_PER_ADDRESS', 1, 10_000),
      overall: optionalInteger(pick(undefined, env, 'TOKENLEDGER_PASSWORD_CHECKS'), 'TOKENLEDGER_PASSWORD_CHECKS', 1, 10_000),
    },
    trustedProxies: integer(pick(undefined, env, 'TOKENLEDGER_TRUSTED_PROXIES') ?? '0', 'TOKENLEDGER_TRUSTED_PROXIES', 0, 16),
    ...(writeWaitMs === undefined ? {} : { writeWaitMs }),
    ...(lookupTimeoutMs === undefined ? {} : { lookupTimeoutMs }),
    admin: ON_OFF.get(adminText)!,
    adminSessionTtlMs,
    schemaAccess,
  };
}

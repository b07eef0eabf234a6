import { z } from 'zod';
import { parseDuration } from './domain/duration.js';

/** A setting that cannot work; the message names the setting (and never echoes a secret). */
export class ConfigError extends Error {
  readonly code = 'config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface Settings {
  store: string;
  redisUrl: string | null;
  redisPrefix: string;
  tokenPrefix: string;
  host: string;
  port: number;
  keyword: string;
  loginTtlMs: number;
  loginLimit: number | null;
  loginThrottle: { limit: number; windowMs: number } | null;
}

export const DEFAULT_STORE = 'sqlite:./data/tokenledger.db';

type Env = Record<string, string | undefined>;

function pick(flag: string | undefined, env: Env, ...names: string[]): string | undefined {
  if (flag !== undefined) return flag;
  for (const name of names) if (env[name] !== undefined && env[name] !== '') return env[name];
  return undefined;
}

function check<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(`${name}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
  return result.data;
}

const THROTTLE_UNITS: Record<string, number> = { s: 1_000, sec: 1_000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000 };

function parseThrottle(text: string): Settings['loginThrottle'] {
  if (text === 'off') return null;
  const match = /^(\d+)\/(s|sec|m|min|h|hour)$/.exec(text);
  if (!match || Number(match[1]) < 1) throw new ConfigError(`TOKENLEDGER_LOGIN_THROTTLE: "${text}" is not a rate (use 5/min, 10/h or off)`);
  return { limit: Number(match[1]), windowMs: THROTTLE_UNITS[match[2]!]! };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
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
  const ttlText = pick(flags.loginTtlMs as string | undefined, env, 'TOKENLEDGER_LOGIN_TTL') ?? '10h';
  const loginTtlMs = parseDuration(ttlText);
  if (loginTtlMs === null) throw new ConfigError(`TOKENLEDGER_LOGIN_TTL: "${ttlText}" is not a duration (use 10h, 30m, 7d or 0)`);
  const limitText = pick(flags.loginLimit as string | undefined, env, 'TOKENLEDGER_LOGIN_LIMIT');
  return {
    store,
    redisUrl,
    redisPrefix: check(z.string().min(1), pick(undefined, env, 'TOKENLEDGER_REDIS_PREFIX') ?? 'tokenledger:', 'TOKENLEDGER_REDIS_PREFIX'),
    tokenPrefix: check(
      z.string().regex(/^[A-Za-z0-9]{1,16}$/, 'a token prefix has 1 to 16 letters or digits'),
      pick(undefined, env, 'TOKENLEDGER_TOKEN_PREFIX') ?? 'tl',
      'TOKENLEDGER_TOKEN_PREFIX',
    ),
    host: pick(flags.host as string | undefined, env, 'HOST') ?? '127.0.0.1',
    port: check(z.coerce.number().int().min(0).max(65535), pick(flags.port?.toString(), env, 'PORT') ?? '8000', 'PORT'),
    keyword: check(
      z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'the keyword is one word such as Token or Bearer'),
      pick(undefined, env, 'TOKENLEDGER_KEYWORD') ?? 'Token',
      'TOKENLEDGER_KEYWORD',
    ),
    loginTtlMs,
    loginLimit: limitText === undefined ? null : check(z.coerce.number().int().min(1), limitText, 'TOKENLEDGER_LOGIN_LIMIT'),
    loginThrottle: parseThrottle(pick(undefined, env, 'TOKENLEDGER_LOGIN_THROTTLE') ?? '5/min'),
  };
}

import { openSync, readSync, closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, digestKey, keyPrefixOf } from '../domain/index.js';

/**
 * One user of a DRF project as the importer reads it: `auth_user`'s columns by name and, when the
 * user has one, their `authtoken_token` row. The key is digested where it is read and never kept:
 * only its SHA-256 and the 8 characters every token shows travel on from here.
 */
export interface DrfUser {
  username: string;
  /** `auth_user.password` exactly as Django stored it. */
  password: string;
  isActive: boolean;
  isStaff: boolean;
  isSuperuser: boolean;
  /** ISO 8601, UTC, millisecond precision (the precision of dumpdata and of tokenledger's own times). */
  dateJoined: string;
  token: { digest: string; keyPrefix: string; created: string } | null;
}

export interface DrfData {
  /** The source as events and output name it: never a password. */
  source: string;
  users: DrfUser[];
  /** Token rows whose user is not among the users read (a dump without them, a dangling key). */
  orphanTokens: number;
}

export interface ReadOptions {
  /** The user table (a custom user model's `<app>_<model>`); `auth_user` by default. */
  userTable?: string;
}

export type SourceSpec =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'dumpdata'; path: string };

const SQLITE_MAGIC = 'SQLite format 3\0';

function isSqliteFile(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.toString('latin1') === SQLITE_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** `sqlite:/path/db.sqlite3`, `postgres://…` (or `postgresql://`), or a file: a SQLite database or a dumpdata JSON. */
export function parseSource(text: string): SourceSpec {
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      new URL(text);
    } catch {
      throw new ConfigError('source: not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: text };
  }
  if (text.startsWith('sqlite:')) {
    const path = text.replace(/^sqlite:(\/\/(?=\/))?/, '');
    if (path === '') throw new ConfigError('source: sqlite: needs a path, as in sqlite:/srv/app/db.sqlite3');
    return { kind: 'sqlite', path: resolve(path) };
  }
  const path = resolve(text);
  return isSqliteFile(path) ? { kind: 'sqlite', path } : { kind: 'dumpdata', path };
}

/** How events and output name a source: a URL's password (and query) is never part of it. */
export function describeSource(spec: SourceSpec): string {
  if (spec.kind === 'sqlite') return `sqlite:${spec.path}`;
  if (spec.kind === 'dumpdata') return `dumpdata:${spec.path}`;
  const url = new URL(spec.url);
  url.password = '';
  url.search = '';
  url.hash = '';
  return url.toString();
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function checkTableName(name: string): string {
  if (!TABLE_NAME.test(name)) throw new ConfigError(`--user-table: "${name}" is not a table name (letters, digits and _)`);
  return name;
}

/**
 * A Django datetime as tokenledger writes times: SQLite's `YYYY-MM-DD HH:MM:SS.ffffff`, dumpdata's
 * ISO form with `Z`, a driver's Date. Values without a zone (Django's USE_TZ=False) are read as UTC.
 */
const UTC_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:Z|\+00:?00)?$/;

export function isoOf(value: unknown, what: string): string {
  if (typeof value === 'string') {
    // The common case, what SQLite and dumpdata hold in UTC, written out without a Date.
    const match = UTC_TEXT.exec(value);
    if (match && Number(match[1]!.slice(5, 7)) <= 12 && Number(match[1]!.slice(8)) <= 31 && Number(match[2]!.slice(0, 2)) <= 23) return `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  }
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string') {
    let text = value.trim().replace(' ', 'T');
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00';
    if (!/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text)) text += 'Z';
    // Date.parse reads at most milliseconds reliably: cut the microseconds Django keeps.
    ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
  } else ms = Number.NaN;
  if (Number.isNaN(ms)) throw new ConfigError(`source: ${what} is not a date and time`);
  return new Date(ms).toISOString();
}

/** SQLite's 0/1, PostgreSQL's and JSON's booleans. */
export function boolOf(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't' || value === 'true';
}

/** The token of a key: its digest and shown prefix; the key goes no further than this call. */
export function tokenOf(key: unknown, created: unknown): DrfUser['token'] {
  if (typeof key !== 'string' || key === '') return null;
  return { digest: digestKey(key), keyPrefix: keyPrefixOf(key), created: isoOf(created, 'authtoken_token.created') };
}

export function userOf(row: Record<string, unknown>, token: DrfUser['token']): DrfUser {
  return {
    username: String(row.username),
    password: typeof row.password === 'string' ? row.password : '',
    isActive: boolOf(row.is_active),
    isStaff: boolOf(row.is_staff),
    isSuperuser: boolOf(row.is_superuser),
    dateJoined: isoOf(row.date_joined, 'date_joined'),
    token,
  };
}

/** The columns read, by name: Django's order differs between databases. */
export const USER_COLUMNS = ['id', 'username', 'password', 'is_active', 'is_staff', 'is_superuser', 'date_joined'] as const;

import { readFile } from 'node:fs/promises';
import { ConfigError } from '../domain/index.js';
import { tokenOf, userOf, type DrfData, type DrfUser } from './source.js';

interface Serialized {
  model?: unknown;
  pk?: unknown;
  fields?: Record<string, unknown>;
}

const TOKEN_MODEL = 'authtoken.token';

/**
 * Reads `manage.py dumpdata auth.user authtoken.token` output: with or without
 * `--natural-foreign` (a token's user is `["alice"]` rather than a pk) and `--natural-primary`
 * (users carry no pk), any `--indent`. Users are the objects with a username and a password
 * field, so a custom user model's label is read too.
 */
export async function readDumpdata(path: string, source: string): Promise<DrfData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`source: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let objects: unknown;
  try {
    objects = JSON.parse(text);
  } catch {
    throw new ConfigError(`source: ${path} is neither a SQLite database nor dumpdata JSON`);
  }
  text = '';
  if (!Array.isArray(objects)) throw new ConfigError(`source: ${path} is JSON but not dumpdata output (a list of objects)`);
  const users: { row: Record<string, unknown>; pk: unknown }[] = [];
  const tokens: { key: unknown; user: unknown; created: unknown }[] = [];
  for (const object of objects as Serialized[]) {
    const fields = object?.fields;
    if (fields === null || typeof fields !== 'object') continue;
    if (object.model === TOKEN_MODEL) tokens.push({ key: object.pk, user: fields.user, created: fields.created });
    else if (typeof fields.username === 'string' && 'password' in fields) users.push({ row: fields, pk: object.pk });
  }
  const byPk = new Map<string, number>();
  const byName = new Map<string, number>();
  users.forEach(({ row, pk }, i) => {
    if (pk !== undefined && pk !== null) byPk.set(String(pk), i);
    byName.set(String(row.username), i);
  });
  const tokenOfUser = new Map<number, DrfUser['token']>();
  let orphanTokens = 0;
  for (const token of tokens) {
    // A natural foreign key is the user's natural key: [username].
    const index = Array.isArray(token.user) ? byName.get(String(token.user[0])) : byPk.get(String(token.user));
    const made = tokenOf(token.key, token.created);
    if (index === undefined || made === null) orphanTokens++;
    else tokenOfUser.set(index, made);
  }
  return { source, users: users.map(({ row }, i) => userOf(row, tokenOfUser.get(i) ?? null)), orphanTokens };
}

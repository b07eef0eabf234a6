import { DEFAULT_PAGE, DirectoryQueryError, MAX_PAGE } from './port.js';

/**
 * Keyset cursors: the sort key of a row at a page's edge and the direction to read from it,
 * as base64url JSON. A cursor is opaque to callers and checked on the way in: any other text, a
 * cursor of another list, or a key of the wrong shape is a DirectoryQueryError naming `cursor`.
 */
export interface Cursor {
  /** The sort key of the edge row. */
  key: string[];
  /** `next`: rows after the key; `previous`: rows before it. */
  direction: 'next' | 'previous';
  /** Whether the edge row itself is included (a cursor pointing back from an empty page). */
  inclusive: boolean;
}

export function encodeCursor(list: string, cursor: Cursor): string {
  const body = { l: list, k: cursor.key, d: cursor.direction === 'next' ? 'n' : 'p', ...(cursor.inclusive ? { i: 1 } : {}) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

const INVALID = 'Invalid cursor';

export function decodeCursor(list: string, width: number, text: string): Cursor {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(text)) throw new DirectoryQueryError('cursor', INVALID);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new DirectoryQueryError('cursor', INVALID);
  }
  const b = body as { l?: unknown; k?: unknown; d?: unknown; i?: unknown };
  const valid =
    typeof body === 'object' &&
    body !== null &&
    b.l === list &&
    Array.isArray(b.k) &&
    b.k.length === width &&
    b.k.every((part) => typeof part === 'string' && part.length <= 512) &&
    (b.d === 'n' || b.d === 'p') &&
    (b.i === undefined || b.i === 1);
  if (!valid) throw new DirectoryQueryError('cursor', INVALID);
  return { key: b.k as string[], direction: b.d === 'n' ? 'next' : 'previous', inclusive: b.i === 1 };
}

/** The page size a query asks for: 1 to 500, default 50. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new DirectoryQueryError('limit', `Ensure this value is a whole number from 1 to ${MAX_PAGE}.`);
  }
  return limit;
}

/**
 * A page from rows read in the cursor's direction (limit + 1 of them, to tell whether more
 * exist), with the cursors around it. `keyOf` gives a row's sort key.
 */
export function pageOf<T>(list: string, rows: T[], limit: number, cursor: Cursor | null, keyOf: (row: T) => string[]) {
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const backwards = cursor?.direction === 'previous';
  if (backwards) page.reverse();
  const first = page[0];
  const last = page.at(-1);
  let next: string | null = null;
  let previous: string | null = null;
  if (!backwards) {
    if (more && last) next = encodeCursor(list, { key: keyOf(last), direction: 'next', inclusive: false });
    if (cursor) {
      previous = first
        ? encodeCursor(list, { key: keyOf(first), direction: 'previous', inclusive: false })
        : encodeCursor(list, { key: cursor.key, direction: 'previous', inclusive: !cursor.inclusive });
    }
  } else {
    if (more && first) previous = encodeCursor(list, { key: keyOf(first), direction: 'previous', inclusive: false });
    next = last
      ? encodeCursor(list, { key: keyOf(last), direction: 'next', inclusive: false })
      : encodeCursor(list, { key: cursor!.key, direction: 'next', inclusive: !cursor!.inclusive });
  }
  return { results: page, next, previous };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startService, type Service } from '../http/harness.js';

/**
 * The staff API's lists: DRF CursorPagination pages whose `next`/`previous` URLs walk the list, and
 * a DRF-shaped 400 naming each bad parameter (unknown filter, cursor that does not decode, limit 0
 * or 10,000, unknown status, bad boolean).
 */
let svc: Service;
let admin: string;
beforeAll(async () => {
  svc = await startService();
  await svc.ledger.registerUser({ username: 'admin', password: null, isStaff: true });
  for (const name of ['ann', 'bea', 'cid', 'dee', 'eve']) {
    await svc.ledger.registerUser({ username: name, password: null });
    await svc.ledger.issueToken({ username: name });
  }
  admin = (await svc.ledger.issueToken({ username: 'admin' })).key;
});
afterAll(() => svc.close());

const get = (url: string) => call(url.startsWith('http') ? url : `${svc.url}${url}`, { token: admin });

describe('staff API lists', () => {
  it('next and previous are URLs that walk every page, forward and back', async () => {
    const seen: string[] = [];
    let page = (await get('/api/users/?limit=2')).json;
    expect(page.previous).toBeNull();
    const pages = [page];
    for (;;) {
      seen.push(...page.results.map((u: { username: string }) => u.username));
      if (page.next === null) break;
      expect(page.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/users\/\?limit=2&cursor=[A-Za-z0-9_-]+$/);
      page = (await get(page.next)).json;
      pages.push(page);
    }
    expect(seen).toEqual(['admin', 'ann', 'bea', 'cid', 'dee', 'eve']);
    const back = (await get(pages.at(-1)!.previous)).json;
    expect(back.results).toEqual(pages.at(-2)!.results);
    const tokens = (await get('/api/tokens/?limit=4')).json;
    expect(tokens.results).toHaveLength(4);
    const rest = (await get(tokens.next)).json;
    expect([...tokens.results, ...rest.results].map((t: { username: string }) => t.username)).toEqual(['admin', 'ann', 'bea', 'cid', 'dee', 'eve']);
  });

  it('a bad parameter is a 400 naming it', async () => {
    const cases: [string, string][] = [
      ['/api/users/?color=red', 'color'],
      ['/api/users/?cursor=nope', 'cursor'],
      ['/api/users/?limit=0', 'limit'],
      ['/api/users/?limit=10000', 'limit'],
      ['/api/users/?limit=ten', 'limit'],
      ['/api/users/?active=maybe', 'active'],
      ['/api/tokens/?status=sleepy', 'status'],
      ['/api/tokens/?within=soon', 'within'],
      ['/api/tokens/?nope=1', 'nope'],
    ];
    for (const [path, field] of cases) {
      const reply = await get(path);
      expect([path, reply.status, Object.keys(reply.json)]).toEqual([path, 400, [field]]);
      expect(reply.json[field]).toEqual([expect.any(String)]);
    }
    // A users cursor is not a tokens cursor.
    const users = (await get('/api/users/?limit=1')).json;
    const cursor = new URL(users.next).searchParams.get('cursor')!;
    expect((await get(`/api/tokens/?cursor=${cursor}`)).json).toEqual({ cursor: ['Invalid cursor'] });
  });
});

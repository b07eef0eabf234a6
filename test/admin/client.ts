import { Service, startService } from '../http/harness.js';
import type { Settings } from '../../src/config.js';

/** One browser-like visitor over plain HTTP: a cookie jar, `Origin` on POSTs, redirects not followed. */
export class Visitor {
  readonly cookies = new Map<string, string>();
  /** Every Set-Cookie header received, as sent. */
  readonly setCookies: string[] = [];

  constructor(
    readonly base: string,
    private readonly origin: string | null = base,
  ) {}

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair!.split('=');
      const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a.trim()));
      if (expired || value.join('=') === '') this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value.join('='));
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    const response = await fetch(`${this.base}${path}`, { redirect: 'manual', headers: { Cookie: this.cookieHeader(), ...headers } });
    this.remember(response.headers);
    return new Page(response.status, response.headers, await response.text());
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    const all: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: this.cookieHeader() };
    if (this.origin !== null) all.Origin = this.origin;
    const response = await fetch(`${this.base}${path}`, { method: 'POST', redirect: 'manual', headers: { ...all, ...headers }, body: new URLSearchParams(fields) });
    this.remember(response.headers);
    return new Page(response.status, response.headers, await response.text());
  }

  /** GETs `path`, then POSTs its form with the page's CSRF token and `fields`. */
  async submit(path: string, fields: Record<string, string>, action = path): Promise<Page> {
    const form = await this.get(path);
    if (form.status !== 200) throw new Error(`GET ${path}: ${form.status}`);
    return this.post(action, { csrfmiddlewaretoken: form.csrf(), ...fields });
  }

  async signIn(username: string, password: string): Promise<Page> {
    return this.submit('/admin/login/', { username, password, next: '/admin/' });
  }
}

export class Page {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly html: string,
  ) {}

  csrf(): string {
    const found = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(this.html);
    if (!found) throw new Error(`no CSRF field in: ${this.html.slice(0, 300)}`);
    return found[1]!;
  }

  get location(): string | null {
    return this.headers.get('location');
  }
}

export const STAFF = { username: 'sam', password: 'sam-staff-pass-1' };

/** A real serve with a staff superuser `sam` and a plain user `pat`. */
export async function consoleService(overrides: Partial<Settings> = {}): Promise<Service> {
  const service = await startService(overrides);
  await service.ledger.registerUser({ username: STAFF.username, password: STAFF.password, isStaff: true, isSuperuser: true });
  await service.ledger.registerUser({ username: 'pat', password: 'pat-plain-pass-1' });
  return service;
}

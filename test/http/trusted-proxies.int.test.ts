import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../src/config.js';
import { call, startService, type Service } from './harness.js';

const login = (svc: Service, username: string, forwardedFor: string) =>
  call(`${svc.url}/api-token-auth/`, { method: 'POST', json: { username, password: 'wrong' }, headers: { 'X-Forwarded-For': forwardedFor } });

/** The client address of the last request line the service logged. */
const lastIp = (svc: Service) =>
  svc.logs
    .map((line) => JSON.parse(line) as { msg?: string; ip?: string })
    .filter((line) => line.msg === 'request')
    .at(-1)?.ip;

describe('TOKENLEDGER_TRUSTED_PROXIES', () => {
  let behindProxy: Service;
  let direct: Service;
  beforeAll(async () => {
    const loginThrottle = { limit: 2, windowMs: 60_000 };
    behindProxy = await startService({ trustedProxies: 1, loginThrottle });
    direct = await startService({ loginThrottle });
  });
  afterAll(async () => {
    await behindProxy?.close();
    await direct?.close();
  });

  it('1: the client is the address the proxy appended; the throttle counts per client, not per proxy', async () => {
    expect((await login(behindProxy, 'u1', '203.0.113.7')).status).toBe(400);
    expect((await login(behindProxy, 'u2', '203.0.113.7')).status).toBe(400);
    // That address is over the limit, whatever the username; another client behind the same proxy is not.
    expect((await login(behindProxy, 'u3', '203.0.113.7')).status).toBe(429);
    expect((await login(behindProxy, 'u4', '203.0.113.8')).status).toBe(400);
    expect(lastIp(behindProxy)).toBe('203.0.113.8');
    // What the client wrote itself, left of the proxy's entry, is not believed.
    await login(behindProxy, 'u5', '6.6.6.6, 203.0.113.9');
    expect(lastIp(behindProxy)).toBe('203.0.113.9');
  });

  it('0 (the default): X-Forwarded-For is ignored, the socket address counts', async () => {
    expect((await login(direct, 'u1', '203.0.113.7')).status).toBe(400);
    expect((await login(direct, 'u2', '203.0.113.8')).status).toBe(400);
    expect((await login(direct, 'u3', '203.0.113.9')).status).toBe(429);
    expect(lastIp(direct)).toBe('127.0.0.1');
  });

  it('is read from the environment: a count of proxies, 0 by default; anything else names the setting', () => {
    expect(loadSettings({}, {}).trustedProxies).toBe(0);
    expect(loadSettings({}, { TOKENLEDGER_TRUSTED_PROXIES: '2' }).trustedProxies).toBe(2);
    for (const bad of ['yes', '-1', '1.5', '99']) {
      expect(() => loadSettings({}, { TOKENLEDGER_TRUSTED_PROXIES: bad })).toThrow(ConfigError);
      expect(() => loadSettings({}, { TOKENLEDGER_TRUSTED_PROXIES: bad })).toThrow(/^TOKENLEDGER_TRUSTED_PROXIES: /);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../src/config.js';

describe('login bounds settings', () => {
  it('default to 20 live login tokens and 20 successful logins a minute per user', () => {
    const settings = loadSettings({}, {});
    expect(settings.loginLimit).toBe(20);
    expect(settings.loginRate).toEqual({ limit: 20, windowMs: 60_000 });
  });

  it('take a number or off, and a rate of at most 100 per window or off', () => {
    expect(loadSettings({}, { TOKENLEDGER_LOGIN_LIMIT: '5', TOKENLEDGER_LOGIN_RATE: '100/h' })).toMatchObject({
      loginLimit: 5,
      loginRate: { limit: 100, windowMs: 3_600_000 },
    });
    expect(loadSettings({}, { TOKENLEDGER_LOGIN_LIMIT: 'off', TOKENLEDGER_LOGIN_RATE: 'off' })).toMatchObject({ loginLimit: null, loginRate: null });
    expect(() => loadSettings({}, { TOKENLEDGER_LOGIN_RATE: '101/min' })).toThrow(ConfigError);
    expect(() => loadSettings({}, { TOKENLEDGER_LOGIN_RATE: '20/day' })).toThrow(/TOKENLEDGER_LOGIN_RATE/);
    expect(() => loadSettings({}, { TOKENLEDGER_LOGIN_LIMIT: '0' })).toThrow(/TOKENLEDGER_LOGIN_LIMIT/);
  });
});

import { expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../src/config.js';

it('TOKENLEDGER_WRITE_WAIT: unset leaves the default to the caller; a duration from 1s to 10m; anything else names the setting', () => {
  expect(loadSettings({}, {}).writeWaitMs).toBeUndefined();
  expect(loadSettings({}, { TOKENLEDGER_WRITE_WAIT: '2s' }).writeWaitMs).toBe(2_000);
  expect(loadSettings({}, { TOKENLEDGER_WRITE_WAIT: '10m' }).writeWaitMs).toBe(600_000);
  for (const bad of ['0', '500', 'soon', '11m', '-1s']) {
    expect(() => loadSettings({}, { TOKENLEDGER_WRITE_WAIT: bad })).toThrow(ConfigError);
    expect(() => loadSettings({}, { TOKENLEDGER_WRITE_WAIT: bad })).toThrow(/^TOKENLEDGER_WRITE_WAIT: /);
  }
});

it('TOKENLEDGER_LOOKUP_TIMEOUT: unset leaves 250 ms to the middleware; 10ms to 60s, in ms or as a duration', () => {
  expect(loadSettings({}, {}).lookupTimeoutMs).toBeUndefined();
  expect(loadSettings({}, { TOKENLEDGER_LOOKUP_TIMEOUT: '500ms' }).lookupTimeoutMs).toBe(500);
  expect(loadSettings({}, { TOKENLEDGER_LOOKUP_TIMEOUT: '2s' }).lookupTimeoutMs).toBe(2_000);
  for (const bad of ['5ms', '2m', 'fast', '0']) {
    expect(() => loadSettings({}, { TOKENLEDGER_LOOKUP_TIMEOUT: bad })).toThrow(/^TOKENLEDGER_LOOKUP_TIMEOUT: /);
  }
});

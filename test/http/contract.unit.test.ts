import { describe, expect, it } from 'vitest';
import { checkResponse, ContractError } from './contract.js';

// The contract helper plays its adversary: responses the document does not describe are refused.
const json = new Headers({ 'Content-Type': 'application/json' });
const base = 'http://127.0.0.1:1';

describe('checkResponse', () => {
  it('accepts a documented status with a matching body', () => {
    expect(() => checkResponse('GET', `${base}/healthz`, 200, json, '{"status":"ok"}')).not.toThrow();
    expect(() => checkResponse('GET', `${base}/api/whoami/`, 401, new Headers({ 'Content-Type': 'application/json', 'WWW-Authenticate': 'Token' }), '{"detail":"Invalid token."}')).not.toThrow();
  });

  it('refuses an undocumented status, a body of another shape, a missing documented header', () => {
    expect(() => checkResponse('GET', `${base}/healthz`, 418, json, '{}')).toThrow(ContractError);
    expect(() => checkResponse('GET', `${base}/healthz`, 200, json, '{"status":"fine"}')).toThrow(/does not match/);
    expect(() => checkResponse('GET', `${base}/api/users/alice/`, 200, json, '{"username":"alice"}')).toThrow(/does not match/);
    expect(() => checkResponse('GET', `${base}/api/whoami/`, 401, json, '{"detail":"Invalid token."}')).toThrow(/WWW-Authenticate/);
    expect(() => checkResponse('POST', `${base}/auth/logout/`, 204, json, '{"detail":"x"}')).toThrow(/a body where/);
  });

  it('leaves alone what is not an operation of the document', () => {
    expect(() => checkResponse('GET', `${base}/admin/`, 200, json, 'anything')).not.toThrow();
    expect(() => checkResponse('PUT', `${base}/api/whoami/`, 405, json, '{"detail":"Method \\"PUT\\" not allowed."}')).not.toThrow();
  });
});

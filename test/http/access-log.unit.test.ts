import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accessLine } from '../../src/http/access-log.js';
import { createLogger } from '../../src/http/logging.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A logger writing into `lines`, as the service's does into stdout. */
function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  return { lines, logger: createLogger(sink, 'info') };
}

describe('the request line', () => {
  it('has the shape, keys in order and values pino gives the same fields, and follows the level', () => {
    const { lines, logger } = capture();
    const fields = { id: 'f00', method: 'GET', path: '/api/whoami/"\\\u2028', status: 200, ms: 0.125, ip: '::1', user: 'ålice' };
    accessLine(logger)(fields);
    logger.info(fields, 'request');
    accessLine(logger.child({ worker: 2 }))({ ...fields, user: undefined });
    logger.child({ worker: 2 }).info({ ...fields, user: undefined }, 'request');
    const [ours, pinos, childOurs, childPinos] = lines.map((line) => {
      expect(line.endsWith('}\n')).toBe(true);
      const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      expect(typeof time).toBe('number');
      return rest;
    });
    expect(Object.entries(ours!)).toEqual(Object.entries(pinos!));
    expect(Object.entries(childOurs!)).toEqual(Object.entries(childPinos!));
    expect(childOurs).not.toHaveProperty('user');

    logger.level = 'warn';
    accessLine(logger)(fields);
    expect(lines).toHaveLength(4);
  });
});

// accessLine writes to the destination it finds under pino.symbols.streamSym, a pino internal, in a
// shape it builds itself: an upgrade of pino that moves either fails here, not in production logs.
describe('the request line, against pino itself (guard)', () => {
  it('is, byte for byte, the line pino writes for the same fields at the same time, with and without bindings', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_767_225_600_123);
    const { lines, logger } = capture();
    const fields = { id: 'f00', method: 'POST', path: '/api-token-auth/', status: 400, ms: 12.5, ip: '203.0.113.9', user: 'bob' };
    accessLine(logger)(fields);
    logger.info(fields, 'request');
    const child = logger.child({ worker: 2, region: 'eu' });
    accessLine(child)({ ...fields, user: undefined });
    child.info({ ...fields, user: undefined }, 'request');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(lines[1]);
    expect(lines[2]).toBe(lines[3]);
  });

  it('goes to the destination the logger was made with', () => {
    const { lines, logger } = capture();
    accessLine(logger)({ id: 'x', method: 'GET', path: '/', status: 200, ms: 1, ip: '::1', user: undefined });
    expect(lines).toHaveLength(1);
  });
});

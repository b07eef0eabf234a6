import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ExecutedBehindError, KeyIssuedBehindError } from '../../src/app/behind.js';
import { createLogger, ErrorSummary, safeError } from '../../src/http/logging.js';
import { OutageLog } from '../../src/http/outage-log.js';
import { ProjectionUnavailableError } from '../../src/projection/port.js';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA';
const DIGEST = 'd'.repeat(64);
const KEY = 'tl_secretsecretsecretsecretsecret';

function logged(write: (logger: ReturnType<typeof createLogger>) => void): string {
  let text = '';
  const logger = createLogger(new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) }), 'trace');
  write(logger);
  logger.flush();
  return text;
}

const executed = {
  state: { exists: true, username: 'alice', passwordHash: HASH, tokens: { default: { digest: DIGEST } } },
  events: [{ type: 'UserPasswordSet', data: { passwordHash: HASH } }],
  position: 7n,
};
const cause = new ProjectionUnavailableError('TOKENLEDGER_REDIS_URL: NOREPLICAS');

describe('errors in the log: an allow-list, and redaction as the second lock', () => {
  it('the errors that carry state or a key show only their name and message, however they are serialised', () => {
    const behind = new ExecutedBehindError(cause, executed as never);
    const issued = new KeyIssuedBehindError(cause, { key: KEY, token: { digest: DIGEST } } as never);
    for (const error of [behind, issued]) {
      expect(Object.keys(error)).not.toContain('executed');
      expect(Object.keys(error)).not.toContain('issued');
      const json = JSON.stringify(error);
      expect(json).not.toContain(HASH);
      expect(json).not.toContain(DIGEST);
      expect(json).not.toContain(KEY);
    }
    // Still there for the app layer.
    expect(behind.executed.position).toBe(7n);
    expect(issued.issued.key).toBe(KEY);
  });

  it('safeError keeps type, message, code, stack and the cause\'s type and message, nothing else', () => {
    const error = Object.assign(new Error('boom', { cause: new Error('inner') }), { code: 'E_X', state: { passwordHash: HASH }, key: KEY });
    const shown = safeError(error);
    expect(Object.keys(shown).sort()).toEqual(['cause', 'code', 'message', 'stack', 'type']);
    expect(shown.cause).toEqual({ type: 'Error', message: 'inner' });
    expect(JSON.stringify(shown)).not.toContain(HASH);
  });

  it('a thrown value that is not an Error is described (type, class, message, code, field names), its values are not copied', () => {
    expect(safeError('socket hang up')).toEqual({ type: 'string', message: '(string thrown, not an Error) socket hang up' });
    expect(safeError(undefined)).toEqual({ type: 'undefined', message: '(undefined thrown, not an Error)' });
    expect(safeError(null)).toEqual({ type: 'null', message: '(null thrown, not an Error)' });
    expect(safeError(42)).toEqual({ type: 'number', message: '(number thrown, not an Error) 42' });
    expect(safeError('x'.repeat(5_000)).message).toHaveLength('(string thrown, not an Error) '.length + 200);
    class Reply {
      constructor(readonly code: string, readonly message: string, readonly passwordHash: string) {}
    }
    const shown = safeError(new Reply('ECONNRESET', 'the peer went away', HASH));
    expect(shown).toEqual({ type: 'object', class: 'Reply', message: '(Reply thrown, not an Error) the peer went away', code: 'ECONNRESET', fields: ['passwordHash'] });
    expect(safeError({ name: 'AbortError', message: 'aborted', key: KEY })).toEqual({ type: 'object', class: 'Object', message: '(Object thrown, not an Error) AbortError: aborted', fields: ['key'] });
    expect(JSON.stringify(safeError(Object.create(null)))).toContain('null prototype');
    // An Error's cause that is not an Error is described too.
    expect(safeError(new Error('outer', { cause: 'inner text' })).cause).toEqual({ type: 'string', message: '(string thrown, not an Error) inner text' });
  });

  it('an outage line shows the failing error\'s type and first line (it read "(not an Error)" for every error)', () => {
    const text = logged((logger) => {
      const outage = new OutageLog(logger);
      outage.failed('projection lookup', new ProjectionUnavailableError('TOKENLEDGER_REDIS_URL: behind\nsecond line'));
      outage.failed('request', 'a string');
    });
    const [lookup, request] = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { err: Record<string, unknown> });
    expect(lookup!.err).toEqual({ type: 'ProjectionUnavailableError', message: 'TOKENLEDGER_REDIS_URL: behind', code: 'unavailable' });
    expect(request!.err).toEqual({ type: 'string', message: '(string thrown, not an Error) a string' });
    expect(text).not.toContain('"stack"');
    expect({ ...new ErrorSummary(Object.assign(new Error('x'), { code: 'E1' })) }).toEqual({ type: 'Error', message: 'x', code: 'E1' });
  });

  it('a logged error with secrets in any field leaves none in the line', () => {
    const error = Object.assign(new Error('write failed'), { executed, state: executed.state, events: executed.events, key: KEY, digest: DIGEST });
    const text = logged((logger) => {
      logger.error({ err: error }, 'request failed');
      logger.error(error);
      logger.error({ err: new ExecutedBehindError(cause, executed as never) }, 'request failed');
    });
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
    for (const secret of [HASH, DIGEST, KEY]) expect(text).not.toContain(secret);
    expect(text).toContain('write failed');
  });

  it('redaction blanks state-shaped fields even outside `err`', () => {
    const text = logged((logger) => logger.warn({ passwordHash: HASH, digest: DIGEST, state: executed.state, events: executed.events, executed }, 'x'));
    for (const secret of [HASH, DIGEST]) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});

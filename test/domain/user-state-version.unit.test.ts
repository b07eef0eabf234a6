import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { USER_STATE_VERSION } from '../../src/domain/index.js';

/**
 * Snapshots hold the folded state of USER_STATE_VERSION; after a change to the state's shape or
 * to the fold, old snapshots would be believed unless the version moves. This pins the source of
 * both to the version: when it fails, bump USER_STATE_VERSION and put the new fingerprint here.
 */
const PINNED: Record<number, string> = { 1: 'f613428aa76d9ebf', 2: '68f9483cd59d2bb1' };

function between(source: string, start: string, end: string): string {
  const from = source.indexOf(start);
  const to = source.indexOf(end, from);
  expect(from, `marker ${start}`).toBeGreaterThanOrEqual(0);
  expect(to, `marker ${end}`).toBeGreaterThan(from);
  return source.slice(from, to);
}

it('the fingerprint of the state shape and the fold matches USER_STATE_VERSION', () => {
  const source = readFileSync('src/domain/user-decider.ts', 'utf8');
  const shape = between(source, 'export interface TokenState', 'export type UserState');
  const rules = between(source, 'function apply(', 'export class UserFold');
  const expiry = readFileSync('src/domain/expiry.ts', 'utf8');
  const fingerprint = createHash('sha256').update(shape.replace(/\s+/g, ' ')).update(rules.replace(/\s+/g, ' ')).update(expiry.replace(/\s+/g, ' ')).digest('hex').slice(0, 16);
  expect(fingerprint, `the state or the fold changed: bump USER_STATE_VERSION and pin ${fingerprint}`).toBe(PINNED[USER_STATE_VERSION]);
});

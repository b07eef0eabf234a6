import fc from 'fast-check';
import type { Ledger } from '../../../src/app/ledger.js';
import { DomainError } from '../../../src/domain/index.js';

/** One step of a random history, run through the real application services. */
export type Step =
  | { kind: 'register'; user: string; staff: boolean }
  | { kind: 'issue'; user: string; name: string; reset: boolean; expiresIn: string | null; scopes: string[] }
  | { kind: 'rotate'; user: string; name: string; grace: string | null }
  | { kind: 'revoke'; user: string; name: string }
  | { kind: 'revokeAll'; user: string }
  | { kind: 'deactivate' | 'activate'; user: string }
  | { kind: 'flags'; user: string; staff: boolean; superuser: boolean }
  | { kind: 'wait'; ms: number };

const user = fc.constantFrom('alice', 'bob', 'carol');
const name = fc.constantFrom('default', 'ci', 'deploy');

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('register' as const), user, staff: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('issue' as const),
      user,
      name,
      reset: fc.boolean(),
      expiresIn: fc.constantFrom(null, '30m', '90d'),
      scopes: fc.subarray(['tokens:read', 'users:read']),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('rotate' as const), user, name, grace: fc.constantFrom(null, '5m', '1h') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revoke' as const), user, name }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revokeAll' as const), user }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('deactivate' as const, 'activate' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flags' as const), user, staff: fc.boolean(), superuser: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(1_000, 10 * 60_000) }) },
);

/** Histories start with two users, so most steps reach the token rules. */
export const historyArb = (maxLength: number) =>
  fc.array(stepArb, { minLength: 1, maxLength, size: 'max' }).map((steps): Step[] => [
    { kind: 'register', user: 'alice', staff: false },
    { kind: 'register', user: 'bob', staff: true },
    ...steps,
  ]);

/** Runs a history; steps the rules refuse (no such user, token exists…) are part of life. */
export async function runHistory(ledger: Ledger, steps: Step[], advance: (ms: number) => void): Promise<void> {
  for (const step of steps) {
    try {
      await runStep(ledger, step, advance);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
}

async function runStep(ledger: Ledger, step: Step, advance: (ms: number) => void): Promise<unknown> {
  switch (step.kind) {
    case 'register':
      return ledger.registerUser({ username: step.user, password: null, isStaff: step.staff });
    case 'issue':
      return ledger.issueToken({ username: step.user, name: step.name, reset: step.reset, expiresIn: step.expiresIn, scopes: step.scopes });
    case 'rotate':
      return ledger.rotateToken({ username: step.user, name: step.name, grace: step.grace });
    case 'revoke':
      return ledger.revokeToken({ username: step.user, name: step.name });
    case 'revokeAll':
      return ledger.revokeToken({ username: step.user, all: true });
    case 'deactivate':
      return ledger.deactivateUser(step.user);
    case 'activate':
      return ledger.activateUser(step.user);
    case 'flags':
      return ledger.setUserFlags(step.user, { isStaff: step.staff, isSuperuser: step.superuser });
    case 'wait':
      return advance(step.ms);
  }
}

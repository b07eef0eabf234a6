import { expect } from 'vitest';
import {
  DomainError,
  evolve,
  initialState,
  decide,
  type DomainErrorCode,
  type LedgerEvent,
  type UserCommand,
  type UserState,
} from '../../src/domain/index.js';

/**
 * Emmett's DeciderSpecification for the user decider: `given(events).when(command).then(events)`.
 * The state is only ever built by folding the given events, as the application does.
 */
export function deciderSpec(username: string) {
  return {
    given(history: LedgerEvent[]) {
      const state: UserState = history.reduce(evolve, initialState());
      return {
        when(command: UserCommand) {
          const run = () => decide(command, state, username);
          return {
            then(expected: LedgerEvent[]): void {
              expect(run()).toEqual(expected);
            },
            thenThrows(code: DomainErrorCode, message?: string | RegExp): DomainError {
              let caught: unknown;
              try {
                run();
              } catch (error) {
                caught = error;
              }
              expect(caught).toBeInstanceOf(DomainError);
              const error = caught as DomainError;
              expect(error.code).toBe(code);
              if (typeof message === 'string') expect(error.message).toBe(message);
              else if (message) expect(error.message).toMatch(message);
              return error;
            },
          };
        },
      };
    },
  };
}

import type { EventStore } from '../src/eventstore/port.js';

export interface LoginHistoryOptions {
  username: string;
  logins: number;
  passwordHash?: string | null;
  everyMs?: number;
  ttlMs?: number;
  limit?: number | null;
  end?: number;
}

/** Appends a user's registration and `logins` hash-chained logins; resolves to the number of events appended. */
export function appendLoginHistory(store: EventStore, options: LoginHistoryOptions): Promise<number>;

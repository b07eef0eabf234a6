import type { EventStore } from '../src/eventstore/port.js';

export interface HistoryOptions {
  users: number;
  tokensPerUser?: number;
  rotations?: number;
  limit?: number;
  prefix?: string;
  start?: number;
  onRound?: (round: number, written: number) => void;
}

/** Appends a realistic, hash-chained history; resolves to the number of events appended. */
export function appendHistory(store: EventStore, options: HistoryOptions): Promise<number>;

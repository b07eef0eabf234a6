import { GENESIS_HASH, eventHash } from '../../domain/index.js';
import type { EventStore, RecordedEvent } from '../../eventstore/port.js';
import type { HeadCheck, LogHead } from './head.js';

export type DamageKind = 'edited' | 'missing' | 'reordered' | 'chain_broken' | 'unreadable' | 'head_mismatch' | 'truncated';

/** One thing wrong with the log, and where. */
export interface Damage {
  kind: DamageKind;
  streamId: string | null;
  revision: number | null;
  position: number | null;
  message: string;
}

export const DAMAGE_LABELS: Record<DamageKind, string> = {
  edited: 'data edited',
  missing: 'event missing',
  reordered: 'events reordered',
  chain_broken: 'chain broken',
  unreadable: 'event unreadable',
  head_mismatch: 'head mismatch',
  truncated: 'log truncated',
};

export function storedHash(event: RecordedEvent): string | null {
  return typeof event.metadata.hash === 'string' ? event.metadata.hash : null;
}

/** The chain hash the event's content yields at `revision`. */
export function hashAt(event: RecordedEvent, revision: bigint): string {
  const { hash: _hash, ...metadata } = event.metadata;
  return eventHash({ streamId: event.streamId, revision, type: event.type, data: event.data, metadata });
}

// How far from its place a moved event is looked for, so a swap is told apart from an edit.
const MOVE_WINDOW = 64n;

interface StreamState {
  next: bigint;
  lastHash: string;
  /** Events up to this revision were already checked in revision order (after a reorder). */
  checkedThrough: bigint;
  /** Hashes of events found at another revision, by the revision they belong to. */
  displaced?: Map<bigint, string>;
}

/** The per-stream half of `audit verify`: revisions in order and dense, hashes chained. */
export class StreamCheck {
  private readonly states = new Map<string, StreamState>();
  readonly findings: Damage[] = [];
  count = 0;

  constructor(
    private readonly store: EventStore,
    private readonly maxFindings: number,
  ) {}

  get streams(): number {
    return this.states.size;
  }

  add(damage: Damage): void {
    this.count += 1;
    if (this.findings.length < this.maxFindings) this.findings.push(damage);
  }

  report(kind: DamageKind, event: RecordedEvent, detail: string): void {
    const where = `stream ${event.streamId}, revision ${event.revision} (position ${event.position})`;
    this.add({ kind, streamId: event.streamId, revision: Number(event.revision), position: Number(event.position), message: `${DAMAGE_LABELS[kind]}: ${where}: ${detail}` });
  }

  /** Checks the next event in global order. */
  async next(event: RecordedEvent): Promise<void> {
    let state = this.states.get(event.streamId);
    if (!state) this.states.set(event.streamId, (state = { next: 0n, lastHash: GENESIS_HASH, checkedThrough: -1n }));
    const revision = event.revision;
    if (revision >= 0n && revision <= state.checkedThrough) return;
    if (revision === state.next) return this.link(state, event, true);
    if (revision < state.next) return this.report('reordered', event, `comes after revision ${state.next - 1n}`);
    const stream = await this.store.readStream(event.streamId).catch(() => null);
    const late = stream?.find((e) => e.revision >= state.next && e.revision < revision);
    if (stream && late && late.position > event.position) {
      this.report('reordered', event, `comes before revision ${late.revision} (position ${late.position})`);
      // Check the rest of the stream in revision order now, and skip it when the walk gets there.
      for (const later of stream) if (later.revision >= state.next) this.inRevisionOrder(state, later);
      state.checkedThrough = state.next - 1n;
      return;
    }
    this.inRevisionOrder(state, event, stream ? 'missing' : 'missing or unreadable');
  }

  private inRevisionOrder(state: StreamState, event: RecordedEvent, what = 'missing'): void {
    if (event.revision === state.next) return this.link(state, event, true);
    const last = event.revision - 1n;
    const gap = last > state.next ? `revisions ${state.next} to ${last}` : `revision ${state.next}`;
    this.add({
      kind: 'missing',
      streamId: event.streamId,
      revision: Number(state.next),
      position: Number(event.position),
      message: `${DAMAGE_LABELS.missing}: stream ${event.streamId}, ${gap} ${what} (revision ${event.revision} at position ${event.position} ${state.next === 0n ? 'opens the stream' : `follows revision ${state.next - 1n}`})`,
    });
    // Its predecessor is gone, so only the event's own hash can still be checked.
    this.link(state, event, false);
  }

  private link(state: StreamState, event: RecordedEvent, checkPrev: boolean): void {
    const stored = storedHash(event);
    if (stored === null) this.report('chain_broken', event, 'it carries no hash');
    else if (hashAt(event, event.revision) !== stored) {
      const home = this.count < this.maxFindings ? this.homeOf(event, stored) : null;
      if (home === null) this.report('edited', event, 'its content no longer matches its hash');
      else {
        this.report('reordered', event, `it holds the event of revision ${home}`);
        (state.displaced ??= new Map()).set(home, stored);
      }
    } else if (checkPrev && event.metadata.prevHash !== state.lastHash && event.metadata.prevHash !== state.displaced?.get(event.revision - 1n)) {
      this.report('chain_broken', event, `it does not chain to revision ${event.revision - 1n} (that event was rewritten or replaced)`);
    }
    state.next = event.revision + 1n;
    state.lastHash = state.displaced?.get(event.revision) ?? stored ?? '';
  }

  /** The revision whose hash this event's content yields, when it was moved rather than edited. */
  private homeOf(event: RecordedEvent, stored: string): bigint | null {
    const from = event.revision > MOVE_WINDOW ? event.revision - MOVE_WINDOW : 0n;
    for (let revision = from; revision <= event.revision + MOVE_WINDOW; revision++) {
      if (revision !== event.revision && hashAt(event, revision) === stored) return revision;
    }
    return null;
  }
}

/** The finding for a recorded head the log does not match, or null when it matches. */
export function headDamage(check: HeadCheck, head: LogHead): Damage | null {
  const at = (position: bigint | null) => ({ streamId: null, revision: null, position: position === null ? null : Number(position) });
  switch (check.status) {
    case 'match':
      return null;
    case 'truncated':
      return { kind: 'truncated', ...at(check.end), message: `log truncated: the recorded head is at position ${check.position}, but the log now ends at position ${check.end}` };
    case 'removed':
      return { kind: 'head_mismatch', ...at(check.position), message: `head mismatch: the event at position ${check.position}, where the recorded head was taken, is gone` };
    case 'mismatch':
      return check.position === null
        ? { kind: 'head_mismatch', ...at(head.position), message: `head mismatch: neither the log (head ${head.position}:${head.hash}) nor any prefix of it hashes to the recorded head: its tail was cut or it was rewritten` }
        : { kind: 'head_mismatch', ...at(check.position), message: `head mismatch: the log up to position ${check.position} no longer hashes to the recorded head: an event at or before it was rewritten, removed or reordered` };
  }
}

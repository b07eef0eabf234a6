import { createHash } from 'node:crypto';
import { DomainError, GENESIS_HASH } from '../../domain/index.js';

/**
 * The head of the whole log: a running sha256 over every event's chain hash in global order,
 * written `<position>:<hex>`. Unlike the per-stream chains it also pins the order across streams
 * and the tail, so a head written down elsewhere detects truncation, and even a rewrite that
 * recomputed every hash after an edit.
 */
export interface LogHead {
  position: bigint;
  hash: string;
}

export const EMPTY_HEAD: LogHead = { position: 0n, hash: GENESIS_HASH };

export function nextHead(head: LogHead, position: bigint, eventHash: string): LogHead {
  return { position, hash: createHash('sha256').update(`${head.hash}:${eventHash}`).digest('hex') };
}

export function formatHead(head: LogHead): string {
  return `${head.position}:${head.hash}`;
}

/** A recorded head: `<position>:<hex>` as printed, or the bare hex (then any position may match). */
export interface ExpectedHead {
  position: bigint | null;
  hash: string;
}

export function parseHead(text: string): ExpectedHead {
  const match = /^(?:(\d+):)?([0-9a-f]{64})$/.exec(text.trim().toLowerCase());
  if (!match) throw new DomainError('invalid_input', `expect-head: "${text}" is not a head (expected <position>:<64 hex digits>, as audit verify prints it)`, { field: 'expect-head' });
  return { position: match[1] === undefined ? null : BigInt(match[1]), hash: match[2]! };
}

/** The outcome of comparing the log with a recorded head. */
export type HeadCheck =
  | { status: 'match'; position: bigint }
  | { status: 'truncated'; position: bigint; end: bigint }
  | { status: 'removed'; position: bigint }
  | { status: 'mismatch'; position: bigint | null };

/**
 * Watches the running head as the walk advances. The recorded head matching a prefix is success:
 * the log may have grown since it was written down.
 */
export class HeadWatcher {
  private result: HeadCheck | null;

  constructor(private readonly expected: ExpectedHead) {
    this.result = expected.position === 0n || (expected.position === null && expected.hash === GENESIS_HASH)
      ? (expected.hash === GENESIS_HASH ? { status: 'match', position: 0n } : { status: 'mismatch', position: 0n })
      : null;
  }

  /** Called with the head after each event. */
  see(head: LogHead): void {
    if (this.result) return;
    const { position, hash } = this.expected;
    if (position === null) {
      if (head.hash === hash) this.result = { status: 'match', position: head.position };
    } else if (head.position === position) {
      this.result = head.hash === hash ? { status: 'match', position } : { status: 'mismatch', position };
    } else if (head.position > position) {
      this.result = { status: 'removed', position };
    }
  }

  /** Called once the walk reached the end of the log. */
  finish(end: LogHead): HeadCheck {
    if (this.result) return this.result;
    if (this.expected.position !== null) return { status: 'truncated', position: this.expected.position, end: end.position };
    return { status: 'mismatch', position: null };
  }
}

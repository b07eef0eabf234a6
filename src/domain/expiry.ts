/**
 * How long an expired token keeps answering "Token has expired." before it is forgotten (as Knox
 * deletes expired tokens). One rule for everything folded from the log: the user's state, the
 * projection's user document and its lookup records. Without it, every login token ever issued
 * would stay in each of them for good, and a write's cost would grow with the user's history.
 */
export const EXPIRED_RETENTION_MS = 7 * 86_400_000;

/** When (epoch ms) a token that expires at `expiresAt` (epoch ms, null: never) leaves folded state. */
export function leavesStateAt(expiresAt: number | null): number | null {
  return expiresAt === null ? null : expiresAt + EXPIRED_RETENTION_MS;
}

/** Whether a token that leaves folded state at `leavesAt` is gone at `now` (both epoch ms). */
export function isGone(leavesAt: number | null, now: number): boolean {
  return leavesAt !== null && now >= leavesAt;
}

interface Entry<K> {
  at: number;
  key: K;
}

/**
 * A binary min-heap of (time, key): what a fold uses to find the tokens due to leave at an event's
 * time in O(log n) per token instead of scanning every token per event. Entries are never
 * removed early: the caller checks a popped key still names the token it was pushed for.
 */
export class DueQueue<K> {
  private readonly heap: Entry<K>[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(at: number, key: K): void {
    const heap = this.heap;
    heap.push({ at, key });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  /** Removes and returns every key due at `now` (at <= now), earliest first. */
  popDue(now: number): K[] {
    const due: K[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= now) due.push(this.pop());
    return due;
  }

  private pop(): K {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && heap[left]!.at < heap[smallest]!.at) smallest = left;
        if (right < heap.length && heap[right]!.at < heap[smallest]!.at) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
        i = smallest;
      }
    }
    return top.key;
  }
}

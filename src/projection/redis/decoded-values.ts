import { ProjectionUnavailableError } from '../port.js';
import type { BatchAnswer } from '../lookup-batch.js';
import { CorruptValueError, decodeRecord } from './codec.js';

/** A lookup's answer for a stored value: the frozen record, or the error that fails this lookup alone. */
function decodeLookup(value: string): BatchAnswer {
  try {
    // Frozen: the same object answers every lookup of this value (as in the memory projection).
    const record = decodeRecord(value);
    Object.freeze(record.scopes);
    return Object.freeze(record);
  } catch (error) {
    if (error instanceof CorruptValueError) return new ProjectionUnavailableError(error.message);
    throw error;
  }
}

/**
 * The record last decoded for each digest, with the exact bytes it came from. Why: a key in use is
 * read again and again and its value rarely changes, so decoding the same bytes again is work to
 * skip (bench/README.md has what it saves). Every lookup still reads the value from Redis; only the
 * decoding of bytes seen before is skipped. Holds at most `max` digests; the longest-held goes first.
 */
export class DecodedValues {
  private readonly byDigest = new Map<string, { bytes: Buffer; answer: BatchAnswer }>();
  constructor(private readonly max = 10_000) {}

  decode(digest: string, bytes: Buffer | null): BatchAnswer {
    if (bytes === null) {
      this.byDigest.delete(digest);
      return null;
    }
    const seen = this.byDigest.get(digest);
    if (seen !== undefined && seen.bytes.equals(bytes)) return seen.answer;
    const answer = decodeLookup(bytes.toString('utf8'));
    // A copy of its own: the reply's bytes are a view into the connection's read buffer, and a
    // small Buffer.from() would share an 8 KiB pool slab with whatever else was allocated there.
    const own = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(own);
    if (seen === undefined && this.byDigest.size >= this.max) this.byDigest.delete(this.byDigest.keys().next().value!);
    this.byDigest.set(digest, { bytes: own, answer });
    return answer;
  }
}

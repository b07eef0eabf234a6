import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';

/** Bytes kept while the destination cannot take them (a full non-blocking pipe); beyond, lines are dropped and counted. */
const MAX_PENDING = 16 * 1024 * 1024;

/**
 * A pino destination that gathers the lines written during one turn of the event loop and writes
 * them with one synchronous write at its end (pino's own default destination writes every line
 * synchronously, and sonic-boom's buffered mode re-measures its buffer on every line: both cost
 * more per request than the rest of the request's logging; bench/README.md has the figures).
 * Nothing is reordered or half-written; a full non-blocking pipe (EAGAIN) keeps the lines and
 * retries shortly.
 */
export class TurnBufferedDestination implements DestinationStream {
  private lines: string[] = [];
  private bytes = 0;
  private scheduled = false;
  private dropped = 0;
  private retry: NodeJS.Timeout | null = null;
  /** Bytes a full pipe did not take yet: they go out before any newer line. */
  private carry: Buffer | null = null;

  constructor(private readonly fd: number) {}

  write(line: string): void {
    if (this.bytes > MAX_PENDING) {
      this.dropped += 1;
      return;
    }
    this.lines.push(line);
    this.bytes += line.length;
    if (!this.scheduled && this.retry === null) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Writes what is buffered now (pino's `logger.flush()`, and at shutdown). */
  flush(callback?: (error?: Error) => void): void {
    this.drain();
    callback?.();
  }

  flushSync(): void {
    this.drain();
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.retry !== null) {
      clearTimeout(this.retry);
      this.retry = null;
    }
    if (this.lines.length === 0 && this.carry === null) return;
    if (this.dropped > 0) {
      this.lines.push(`${JSON.stringify({ level: 40, time: Date.now(), msg: 'log lines dropped: stdout did not take them', dropped: this.dropped })}\n`);
      this.dropped = 0;
    }
    const text = Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join(''));
    let data = this.carry === null ? text : Buffer.concat([this.carry, text]);
    this.carry = null;
    this.lines = [];
    this.bytes = 0;
    while (data.length > 0) {
      let written: number;
      try {
        written = writeSync(this.fd, data);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          // Keep the rest (bytes: it may end mid-character) in front of newer lines; try again soon.
          this.carry = data;
          this.bytes += data.length;
          this.retry = setTimeout(this.drain, 10).unref();
          return;
        }
        // stdout is gone (EPIPE, closed): there is nowhere to report it; the lines are lost.
        return;
      }
      data = data.subarray(written);
    }
  };
}

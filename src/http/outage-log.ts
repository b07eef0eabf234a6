import type { Logger } from 'pino';
import { ErrorSummary } from './logging.js';

interface Outage {
  since: number;
  failures: number;
}

/**
 * Logs a backend outage (Redis, the store) once per change of state rather than once per failed
 * request: one warning when a source starts failing (the error's type and message, no stack),
 * one info line when it works again (how long, how many failures). A 6-second Redis outage at
 * thousands of requests a second is two lines, not thousands of stacks; the metrics count every
 * failure. Sources are independent: the lookups, the projector and the request path each have
 * their own state.
 */
export class OutageLog {
  private readonly down = new Map<string, Outage>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether any source is failing now (cheap: a request checks it before calling `recovered`). */
  get anyDown(): boolean {
    return this.down.size > 0;
  }

  failed(source: string, error: unknown): void {
    const outage = this.down.get(source);
    if (outage) {
      outage.failures++;
      return;
    }
    this.down.set(source, { since: this.clock(), failures: 1 });
    // A summary (type, first line, code), not a plain object: the logger's `err` serialiser
    // would take a plain object for a thrown non-Error and show none of it.
    this.logger.warn({ source, err: new ErrorSummary(error) }, `${source} failing; logged again when it recovers`);
  }

  recovered(source: string): void {
    const outage = this.down.get(source);
    if (!outage) return;
    this.down.delete(source);
    this.logger.info({ source, failures: outage.failures, ms: this.clock() - outage.since }, `${source} recovered`);
  }
}

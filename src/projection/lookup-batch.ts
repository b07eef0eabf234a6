import type { LookupCallback, TokenRecord } from '../domain/record.js';

/** One answer of a batch read: the record, null for none, or the error that fails just this lookup. */
export type BatchAnswer = TokenRecord | null | Error;

/** Reads the records of many digests at once, answers in the same order. */
export type ReadMany = (digests: string[]) => BatchAnswer[] | Promise<BatchAnswer[]>;

interface Batch {
  digests: string[];
  callbacks: LookupCallback[];
}

/** Calls one lookup's callback; a callback that throws is reported after the batch, not to the other lookups in it. */
function answer(callback: LookupCallback, cause: unknown, record?: TokenRecord | null): void {
  try {
    callback(cause, record);
  } catch (error) {
    // As an exception in a promise's reaction would be: unhandled, but the rest of the batch is answered.
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * Gathers the lookups of one turn of the event loop (the requests that arrived together) and
 * reads them in one go once the turn's I/O is handled (`setImmediate`): for Redis one MGET, one
 * round trip and one time bound for all of them. Every lookup is still read after it was asked.
 *
 * Why after the turn, even for the memory projection: it costs the server less CPU per request
 * than answering each request as it is parsed (its responses then go out together; the figures
 * are in bench/README.md).
 *
 * Each lookup is answered through a callback (`lookupWith`), called from the batch's own turn:
 * a request's authentication makes no promise of its own on this path (`lookup` is the
 * promise form, for everyone else).
 */
export class LookupBatcher {
  private batch: Batch | null = null;

  constructor(
    private readonly readMany: ReadMany,
    /** A larger burst goes out as several reads. */
    private readonly maxBatch = 512,
  ) {}

  lookup(digest: string): Promise<TokenRecord | null> {
    return new Promise((resolve, reject) => {
      this.lookupWith(digest, (cause, record) => (record === undefined ? reject(cause) : resolve(record)));
    });
  }

  lookupWith(digest: string, callback: LookupCallback): void {
    let batch = this.batch;
    if (batch === null || batch.digests.length >= this.maxBatch) {
      const fresh: Batch = { digests: [], callbacks: [] };
      batch = this.batch = fresh;
      setImmediate(() => this.flush(fresh));
    }
    batch.digests.push(digest);
    batch.callbacks.push(callback);
  }

  private flush(batch: Batch): void {
    if (this.batch === batch) this.batch = null;
    const { callbacks } = batch;
    const settle = (answers: BatchAnswer[]) => {
      for (let i = 0; i < callbacks.length; i++) {
        const found = answers[i];
        if (found instanceof Error) answer(callbacks[i]!, found);
        else answer(callbacks[i]!, undefined, found ?? null);
      }
    };
    const fail = (error: unknown) => {
      for (const callback of callbacks) answer(callback, error);
    };
    let answers: BatchAnswer[] | Promise<BatchAnswer[]>;
    try {
      answers = this.readMany(batch.digests);
    } catch (error) {
      return fail(error);
    }
    if (answers instanceof Promise) answers.then(settle, fail);
    else settle(answers);
  }
}

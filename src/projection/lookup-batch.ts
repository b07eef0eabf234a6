import type { TokenRecord } from '../domain/record.js';

/** One answer of a batch read: the record, null for none, or the error that fails just this lookup. */
export type BatchAnswer = TokenRecord | null | Error;

/** Reads the records of many digests at once, answers in the same order. */
export type ReadMany = (digests: string[]) => BatchAnswer[] | Promise<BatchAnswer[]>;

interface Batch {
  digests: string[];
  resolves: ((record: TokenRecord | null) => void)[];
  rejects: ((error: unknown) => void)[];
}

/**
 * Gathers the lookups of one turn of the event loop (the requests that arrived together) and
 * reads them in one go once the turn's I/O is handled (`setImmediate`): for Redis one MGET, one
 * round trip and one time bound for all of them. Every lookup is still read after it was asked.
 *
 * Why after the turn, even for the memory projection: it costs the server less CPU per request
 * than answering each request as it is parsed (its responses then go out together; the figures
 * are in bench/README.md).
 */
export class LookupBatcher {
  private batch: Batch | null = null;

  constructor(
    private readonly readMany: ReadMany,
    /** A larger burst goes out as several reads. */
    private readonly maxBatch = 512,
  ) {}

  lookup(digest: string): Promise<TokenRecord | null> {
    let batch = this.batch;
    if (batch === null || batch.digests.length >= this.maxBatch) {
      const fresh: Batch = { digests: [], resolves: [], rejects: [] };
      batch = this.batch = fresh;
      setImmediate(() => this.flush(fresh));
    }
    const { digests, resolves, rejects } = batch;
    digests.push(digest);
    return new Promise((resolve, reject) => {
      resolves.push(resolve);
      rejects.push(reject);
    });
  }

  private flush(batch: Batch): void {
    if (this.batch === batch) this.batch = null;
    const settle = (answers: BatchAnswer[]) => {
      for (let i = 0; i < batch.resolves.length; i++) {
        const answer = answers[i];
        if (answer instanceof Error) batch.rejects[i]!(answer);
        else batch.resolves[i]!(answer ?? null);
      }
    };
    const fail = (error: unknown) => {
      for (const reject of batch.rejects) reject(error);
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

import {
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  isCommandError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendStreamState,
} from '@kurrent/kurrentdb-client';
import { USER_STREAM_PREFIX } from '../domain/events.js';
import {
  ConcurrencyError,
  StoreUnavailableError,
  type AppendResult,
  type EventStore,
  type ExpectedState,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
} from './port.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Servers before 22.6 report no $all position on stream reads (u64::MAX or nothing). */
const NO_POSITION = 1n << 63n;
const RESUBSCRIBE_MIN_MS = 100;
const RESUBSCRIBE_MAX_MS = 5_000;

/** What the client's bare error names mean to someone reading one line. */
const REASONS: Record<string, string> = {
  unavailable: 'server unavailable (is it running, and does tls= match the server?)',
  'deadline-exceeded': 'the server did not answer in time',
  'access-denied': 'access denied (check the user and password in the URL)',
  'not-leader': 'the node is not the leader (use a kurrentdb+discover:// URL or nodePreference=leader)',
};

/** Our expected states are the port's copy of KurrentDB's: the same strings, and bigint revisions. */
const toStreamState = (expected: ExpectedState): AppendStreamState => expected;

/** Our parameters come off the connection string: the client warns about keys it does not know. */
function splitUrl(url: string): { connection: string; streamPrefix: string; where: string } {
  const [base = '', query = ''] = url.replace(/^esdb(\+discover)?:/, 'kurrentdb$1:').split('?', 2);
  const params = new URLSearchParams(query);
  const streamPrefix = params.get('streamPrefix') ?? '';
  params.delete('streamPrefix');
  const rest = params.toString();
  const where = base.replace(/^[^:]+:\/\/([^@/]*@)?/, '').replace(/\/+$/, '');
  return { connection: rest ? `${base}?${rest}` : base, streamPrefix, where };
}

/**
 * The KurrentDB (EventStoreDB) event store (`TOKENLEDGER_STORE=kurrentdb://host:2113?tls=false`).
 * Streams are KurrentDB streams, expected states are `streamState`, and the global position is the
 * `$all` commit position: ordered and unique, not dense. `readAll` reads `$all` with a server-side
 * stream-name prefix filter: `streamPrefix` when the URL sets one (every stream is stored under
 * it, so several ledgers can share a server), otherwise tokenledger's `user-` streams.
 */
export class KurrentEventStore implements EventStore {
  private readonly filter;

  private constructor(
    private readonly client: KurrentDBClient,
    private readonly streamPrefix: string,
    private readonly where: string,
  ) {
    this.filter = streamNameFilter({ prefixes: [streamPrefix || USER_STREAM_PREFIX] });
  }

  /** Connects and reads once, so that an unreachable server fails at start with one clear line. */
  static async open(url: string): Promise<KurrentEventStore> {
    const { connection, streamPrefix, where } = splitUrl(url);
    let client: KurrentDBClient;
    try {
      client = KurrentDBClient.connectionString(connection);
    } catch {
      // The parser's message quotes the whole connection string, credentials included.
      throw new StoreUnavailableError(`TOKENLEDGER_STORE: not a valid kurrentdb:// connection string (host ${where})`);
    }
    const store = new KurrentEventStore(client, streamPrefix, where);
    try {
      await store.headPosition();
    } catch (error) {
      await client.dispose().catch(() => {});
      throw error;
    }
    return store;
  }

  /** Client errors (unavailable, deadline, not leader, access denied, unknown) mean the store cannot serve us. */
  private translate(error: unknown): unknown {
    if (!(error instanceof Error) || !isCommandError(error)) return error;
    const message = String(error.message ?? '')
      .replace(/\/\/[^@\s/]*@/g, '//***@')
      .split('\n', 1)[0]!
      .trim();
    // The client's messages are often just a class name ("UnavailableError"): say what the type means.
    const reason = REASONS[error.type] ?? (message || error.type);
    return new StoreUnavailableError(`TOKENLEDGER_STORE: cannot reach KurrentDB at ${this.where}: ${reason}`);
  }

  async append(streamId: string, events: NewEvent[], expected: ExpectedState): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const data = events.map((event) => {
      const id = event.metadata.eventId;
      return jsonEvent({
        type: event.type,
        data: (event.data ?? null) as never,
        metadata: event.metadata as never,
        // Our event id doubles as KurrentDB's, which makes a retried append idempotent.
        ...(typeof id === 'string' && UUID.test(id) ? { id } : {}),
      });
    });
    try {
      const result = await this.client.appendToStream(this.streamPrefix + streamId, data, { streamState: toStreamState(expected) });
      return { nextExpectedRevision: result.nextExpectedRevision, position: result.position?.commit ?? 0n };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        throw new ConcurrencyError(streamId, expected, error.actualState === 'no_stream' ? 'no_stream' : error.actualState);
      }
      throw this.translate(error);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    const fromRevision = options.fromRevision !== undefined && options.fromRevision > 0n ? options.fromRevision : START;
    try {
      const maxCount = options.limit !== undefined ? { maxCount: options.limit } : {};
      for await (const resolved of this.client.readStream(this.streamPrefix + streamId, { fromRevision, direction: FORWARDS, ...maxCount })) {
        const event = resolved.event;
        if (!event) continue;
        const commit = event.position?.commit ?? NO_POSITION;
        events.push(this.toRecorded(event, commit < NO_POSITION ? commit : 0n));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw this.translate(error);
    }
    return events;
  }

  private toRecorded(event: { streamId: string; revision: bigint; type: string; data: unknown; metadata?: unknown }, position: bigint): RecordedEvent {
    return {
      streamId: event.streamId.slice(this.streamPrefix.length),
      revision: event.revision,
      position,
      type: event.type,
      data: event.data,
      metadata: (event.metadata ?? {}) as Record<string, unknown>,
    };
  }

  private positionOf(resolved: AllStreamResolvedEvent): bigint {
    return resolved.commitPosition ?? resolved.event?.position.commit ?? 0n;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? 0n;
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const events: RecordedEvent[] = [];
    if (limit <= 0) return events;
    try {
      // Reading from a position includes the event there, so ask for one more and skip it.
      const reader = this.client.readAll({
        fromPosition: after > 0n ? { commit: after, prepare: after } : START,
        direction: FORWARDS,
        maxCount: Math.min(limit, Number.MAX_SAFE_INTEGER - 1) + 1,
        filter: this.filter,
      });
      for await (const resolved of reader) {
        const position = this.positionOf(resolved);
        if (!resolved.event || position <= after) continue;
        events.push(this.toRecorded(resolved.event, position));
        if (events.length === limit) break;
      }
    } catch (error) {
      throw this.translate(error);
    }
    return events;
  }

  async headPosition(): Promise<bigint> {
    try {
      for await (const resolved of this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1, filter: this.filter })) {
        return this.positionOf(resolved);
      }
      return 0n;
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * Wakes `onAppend` for every new event of this ledger: a `subscribeToAll` from the end with the
   * same server-side filter as readAll. After a drop it subscribes again (with backoff) and wakes
   * the follower, which reads from its own checkpoint and so misses nothing.
   */
  subscribe(onAppend: () => void): () => void {
    let subscription: AllStreamSubscription | null = null;
    let timer: NodeJS.Timeout | null = null;
    let backoff = RESUBSCRIBE_MIN_MS;
    let stopped = false;
    const start = () => {
      if (stopped) return;
      const current = this.client.subscribeToAll({ fromPosition: END, filter: this.filter });
      subscription = current;
      const dropped = () => {
        if (stopped || subscription !== current) return;
        subscription = null;
        onAppend();
        timer = setTimeout(start, backoff).unref();
        backoff = Math.min(backoff * 2, RESUBSCRIBE_MAX_MS);
      };
      current.on('data', () => {
        backoff = RESUBSCRIBE_MIN_MS;
        onAppend();
      });
      current.on('confirmation', () => onAppend());
      current.on('error', dropped);
      current.on('end', dropped);
      current.on('close', dropped);
    };
    start();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      void (subscription as AllStreamSubscription | null)?.unsubscribe().catch(() => {});
    };
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }
}

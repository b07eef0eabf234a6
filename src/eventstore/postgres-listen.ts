import pg from 'pg';

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const WAKE_AGAIN_MS = 20;

/**
 * Sends NOTIFY after appends, at most one at a time per process. A NOTIFY inside the append
 * transaction would serialize every commit on PostgreSQL's notification queue lock; one sent
 * after the commit costs a round trip, and appends that finish while it is in flight share the
 * next one. Every append is followed by a NOTIFY that started after it committed.
 */
export class Notifier {
  private pending = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
  ) {}

  poke(): void {
    this.pending = true;
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      this.pending = false;
      // A lost NOTIFY only delays followers until their next wake-up; the append itself is done.
      // The NOTIFY's own commit need not wait for the disk (a notification is not durable anyway):
      // it then neither delays followers by a WAL flush nor takes a flush slot from appends.
      await this.pool
        .query(`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')`, [this.channel])
        .catch(() => {});
    }
    this.running = null;
  }

  async flush(): Promise<void> {
    await this.running;
  }
}

/**
 * One LISTEN connection shared by the store's subscribers. When it drops it reconnects with
 * backoff and wakes the subscribers on every attempt and after it is back: NOTIFYs sent while
 * it was away are lost, so the followers must read to find what they missed.
 */
export class Listener {
  private readonly subscribers = new Set<() => void>();
  private client: pg.Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private wake: NodeJS.Timeout | null = null;
  private backoff = RECONNECT_MIN_MS;
  private closed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
  ) {}

  add(onAppend: () => void): () => void {
    this.subscribers.add(onAppend);
    if (this.subscribers.size === 1) this.connect();
    return () => {
      this.subscribers.delete(onAppend);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  /** Wakes the subscribers once more, shortly (coalesced). */
  wakeSoon(): void {
    if (this.wake || this.subscribers.size === 0) return;
    this.wake = setTimeout(() => {
      this.wake = null;
      this.fire();
    }, WAKE_AGAIN_MS).unref();
  }

  private fire(): void {
    for (const subscriber of this.subscribers) subscriber();
  }

  private connect(): void {
    if (this.closed || this.client) return;
    const client = new pg.Client(this.config);
    this.client = client;
    const dropped = () => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => {});
      this.fire();
      if (this.subscribers.size > 0) this.scheduleReconnect();
    };
    client.on('notification', () => this.fire());
    client.on('error', dropped);
    client.on('end', dropped);
    client
      .connect()
      .then(() => client.query(`LISTEN "${this.channel}"`))
      .then(() => {
        this.backoff = RECONNECT_MIN_MS;
        this.fire();
      })
      .catch(dropped);
  }

  private scheduleReconnect(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect();
    }, this.backoff).unref();
    this.backoff = Math.min(this.backoff * 2, RECONNECT_MAX_MS);
  }

  private stop(): void {
    for (const timer of [this.retry, this.wake]) if (timer) clearTimeout(timer);
    this.retry = this.wake = null;
    const client = this.client;
    this.client = null;
    client?.end().catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    this.stop();
  }
}

import { ConfigError, type Settings } from '../config.js';
import { openDirectory } from '../directory/open.js';
import { openEventStore } from '../eventstore/open.js';
import { openLog } from '../eventstore/vault/index.js';
import { guarded } from './directory.js';
import { openProjection } from '../projection/open.js';
import { rebuildProjection, type RebuildProgress } from '../projection/rebuild.js';
import { redisTarget } from '../projection/redis/url.js';

export type { RebuildProgress };

/** Where the projection lives, for people: never a password from the URL. */
export function describeBackend(settings: Settings): string {
  return settings.redisUrl === null
    ? 'memory (inside each server process, built from the log at start)'
    : `redis at ${redisTarget(settings.redisUrl)}, key prefix "${settings.redisPrefix}"`;
}

export interface StatusView {
  backend: 'redis' | 'memory';
  where: string;
  /** Null for the memory projection: it only exists inside a running server. */
  checkpoint: number | null;
  /** No projection in Redis at all (new, or Redis lost its data): lookups answer 503 until rebuilt. */
  empty: boolean;
  head: number;
  lag: number | null;
}

/** `projection status`: checkpoint, head of the log and lag, in events. */
export async function projectionStatus(settings: Settings): Promise<StatusView> {
  const runtime = await openProjection(settings);
  try {
    const where = describeBackend(settings);
    if (runtime.store.backend === 'memory') {
      return { backend: 'memory', where, checkpoint: null, empty: false, head: Number(await runtime.events.headPosition()), lag: null };
    }
    const status = await runtime.projector.status();
    const empty = await runtime.store.isEmpty();
    return { backend: 'redis', where, checkpoint: Number(status.checkpoint), empty, head: Number(status.head), lag: Number(status.lag) };
  } finally {
    await runtime.close();
  }
}

export interface RebuildSummary {
  backend: 'redis' | 'memory';
  where: string;
  rebuilt: boolean;
  events: number;
  checkpoint: number | null;
  seconds: number;
  eventsPerSecond: number;
}

/**
 * `projection rebuild`. The memory projection has nothing to rebuild outside a server (each
 * server builds its own from the log at start), which the summary says instead of pretending.
 */
export async function rebuildFromSettings(settings: Settings, onProgress?: (progress: RebuildProgress) => void): Promise<RebuildSummary> {
  const where = describeBackend(settings);
  if (settings.redisUrl === null) {
    return { backend: 'memory', where, rebuilt: false, events: 0, checkpoint: null, seconds: 0, eventsPerSecond: 0 };
  }
  const runtime = await openProjection(settings);
  try {
    const result = await rebuildProjection(runtime.events, runtime.store, { onProgress });
    return {
      backend: 'redis',
      where,
      rebuilt: true,
      events: result.events,
      checkpoint: Number(result.checkpoint),
      seconds: result.elapsedMs / 1_000,
      eventsPerSecond: result.eventsPerSecond,
    };
  } finally {
    await runtime.close();
  }
}

export interface RunProjectorHooks {
  /** Aborting stops the projector after its current batch (the command wires SIGTERM/SIGINT). */
  signal: AbortSignal;
  /** Events per read and per atomic write (default 1,000). */
  batchSize?: number;
  onStarted?: (checkpoint: number) => void;
  /** A new kind of failure (the same one repeating is reported once). */
  onError?: (message: string) => void;
  onRecovered?: () => void;
}

/** `projection run`: a standalone projector that follows the log into Redis until stopped. */
export async function runProjector(settings: Settings, hooks: RunProjectorHooks): Promise<{ checkpoint: number }> {
  if (settings.redisUrl === null) {
    throw new ConfigError(
      'TOKENLEDGER_REDIS_URL: `projection run` needs the Redis projection (the memory projection lives inside each server)',
    );
  }
  let failing: string | null = null;
  const runtime = await openProjection(settings, {
    batchSize: hooks.batchSize,
    onError: (error) => {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== failing) hooks.onError?.(message);
      failing = message;
    },
    onRecovered: () => {
      failing = null;
      hooks.onRecovered?.();
    },
  });
  try {
    hooks.onStarted?.(Number(await runtime.store.checkpoint()));
    runtime.projector.start();
    await new Promise<void>((resolve) => {
      if (hooks.signal.aborted) resolve();
      hooks.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await runtime.projector.stop();
    return { checkpoint: Number(await runtime.store.checkpoint().catch(() => 0n)) };
  } finally {
    await runtime.close();
  }
}

export interface DirectoryStatusView {
  backend: 'sqlite' | 'postgres';
  where: string;
  checkpoint: number;
  head: number;
  lag: number;
}

/** `projection status`, the directory's part: where it lives, its checkpoint and its lag. */
export async function directoryStatus(settings: Settings): Promise<DirectoryStatusView> {
  const events = await openEventStore(settings.store);
  try {
    const runtime = await guarded(openDirectory(settings, events));
    try {
      const status = await guarded(runtime.projector.status());
      return { backend: status.backend, where: status.where, checkpoint: Number(status.checkpoint), head: Number(status.head), lag: Number(status.lag) };
    } finally {
      await runtime.close();
    }
  } finally {
    await events.close();
  }
}

export interface DirectoryRebuildSummary {
  where: string;
  events: number;
  checkpoint: number;
  seconds: number;
  eventsPerSecond: number;
}

/**
 * `projection rebuild`, the directory's part: the whole log folded into fresh tables in one
 * transaction (readers see the old directory until it commits), then what was appended meanwhile.
 */
export async function rebuildDirectory(settings: Settings, onProgress?: (progress: RebuildProgress) => void): Promise<DirectoryRebuildSummary> {
  // The sealing log, as every reader but `audit verify` sees it: the directory keeps names, not ciphertext.
  const events = await openLog(settings);
  try {
    const runtime = await guarded(openDirectory(settings, events));
    try {
      const started = Date.now();
      const total = Number(await events.headPosition());
      await guarded(
        runtime.projector.rebuild((count) => {
          const elapsed = Math.max(Date.now() - started, 1);
          const rate = Math.round((count * 1_000) / elapsed);
          onProgress?.({ phase: 'replay', events: count, total: Math.max(total, count), eventsPerSecond: rate, etaMs: rate > 0 ? (Math.max(total - count, 0) / rate) * 1_000 : null });
        }),
      );
      const seconds = (Date.now() - started) / 1_000;
      const checkpoint = Number(await guarded(runtime.store.checkpoint()));
      return { where: runtime.store.where, events: total, checkpoint, seconds, eventsPerSecond: Math.round(total / Math.max(seconds, 0.001)) };
    } finally {
      await runtime.close();
    }
  } finally {
    await events.close();
  }
}

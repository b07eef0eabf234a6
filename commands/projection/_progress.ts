import type { RebuildProgress } from '../../src/app/projection.js';

const PHASES: Record<RebuildProgress['phase'], string> = { replay: 'replaying', 'catch-up': 'catching up', switch: 'switched' };

function duration(ms: number | null): string {
  if (ms === null) return '?';
  const s = Math.round(ms / 1_000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * A progress bar on stderr with rate and ETA when stderr is a terminal; nothing otherwise (logs
 * and pipes get the one summary line). Returns the callback and a function that ends the bar.
 */
export async function progressBar(enabled: boolean): Promise<{ update?: (p: RebuildProgress) => void; done: () => void }> {
  if (!enabled || !process.stderr.isTTY) return { done: () => {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{phase} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {left}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { phase: PHASES[p.phase], rate: p.eventsPerSecond.toLocaleString('en-US'), left: duration(p.etaMs) };
      if (!started) bar.start(p.total, p.events, payload);
      else {
        bar.setTotal(p.total);
        bar.update(p.events, payload);
      }
      started = true;
    },
    done: () => started && bar.stop(),
  };
}

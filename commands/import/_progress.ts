/** A progress bar on stderr when it is a terminal; nothing otherwise (pipes and logs get the summary). */
export async function progressBar(enabled: boolean): Promise<{ update?: (done: number, total: number) => void; done: () => void }> {
  if (!enabled || !process.stderr.isTTY) return { done: () => {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'importing [{bar}] {percentage}% | {value}/{total} users | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 2_000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let shown = 0;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      // A redraw per user would cost more than the import of one.
      if (done === total || done - shown >= 500) {
        bar.update(done);
        shown = done;
      }
    },
    done: () => started && bar.stop(),
  };
}

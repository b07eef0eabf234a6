import { BaseCommand } from '../_shared/base.js';
import { progressBar } from './_progress.js';

export default class ProjectionRebuild extends BaseCommand {
  static override summary = 'Replay the whole log into a new projection and a new directory, then switch to each atomically.';
  static override description =
    'Tokens that stay valid keep working during the rebuild: the new projection is built beside the live one, ' +
    'caught up with events appended meanwhile, and switched to in one atomic step. Shows a progress bar with ' +
    'rate and ETA on a terminal (stderr). With the memory projection there is nothing to rebuild: each server ' +
    'builds its own from the log when it starts. The directory (lists and searches) is rebuilt in one transaction: ' +
    'lists answer from the old one until the new one is complete.';
  static override examples = [
    'TOKENLEDGER_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> projection rebuild',
    '<%= config.bin %> projection rebuild --redis-url redis://127.0.0.1:6379 --json',
  ];

  async run() {
    const { flags } = await this.parse(ProjectionRebuild);
    const settings = await this.settings(flags);
    const { rebuildDirectory, rebuildFromSettings } = await import('../../src/app/projection.js');
    const bar = await progressBar(!this.jsonEnabled());
    const summary = await rebuildFromSettings(settings, bar.update).finally(bar.done);
    const directoryBar = await progressBar(!this.jsonEnabled());
    const directory = await rebuildDirectory(settings, directoryBar.update).finally(directoryBar.done);
    if (!summary.rebuilt) this.note(`Nothing to rebuild: the projection is ${summary.where}.`);
    else {
      this.note(
        `Rebuilt the projection (${summary.where}): ${summary.events} events in ${summary.seconds.toFixed(1)} s ` +
          `(${summary.eventsPerSecond} events/s), checkpoint ${summary.checkpoint}.`,
      );
    }
    this.note(
      `Rebuilt the directory (${directory.where}): ${directory.events} events in ${directory.seconds.toFixed(1)} s ` +
        `(${directory.eventsPerSecond} events/s), checkpoint ${directory.checkpoint}.`,
    );
    return { ...summary, directory };
  }
}

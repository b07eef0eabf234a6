import { Flags } from '@oclif/core';
import { BaseCommand } from '../_shared/base.js';

export default class ProjectionRun extends BaseCommand {
  static override summary = 'Run a standalone projector: follow the log into Redis until SIGTERM or SIGINT.';
  static override description =
    'Catches up from the checkpoint, then applies new events as they are appended (woken by PostgreSQL notifications, or polling the log every 25 ms). ' +
    'Any number may run beside servers and each other; killed at any point, it resumes from the checkpoint.';
  static override enableJsonFlag = false;
  static override examples = [
    'TOKENLEDGER_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> projection run',
    '<%= config.bin %> projection run --redis-url redis://127.0.0.1:6379 --batch-size 500',
  ];

  static override flags = {
    'batch-size': Flags.integer({ description: 'events per read and per atomic write', default: 1000, min: 1, max: 10_000 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ProjectionRun);
    const settings = await this.settings(flags);
    const { runProjector } = await import('../../src/app/projection.js');
    const stop = new AbortController();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
    const { checkpoint } = await runProjector(settings, {
      signal: stop.signal,
      batchSize: flags['batch-size'],
      onStarted: (at) => this.note(`projector following the log from checkpoint ${at} (stop with Ctrl-C)`),
      onError: (message) => this.note(`projector: ${message} (retrying)`),
      onRecovered: () => this.note('projector: recovered'),
    });
    this.note(`projector stopped at checkpoint ${checkpoint}`);
  }
}

import { BaseCommand } from '../_shared/base.js';

export default class ProjectionStatus extends BaseCommand {
  static override summary = 'Show the projection and the directory: where each lives, its checkpoint, the head of the log and the lag.';
  static override examples = ['<%= config.bin %> projection status', '<%= config.bin %> projection status --json'];

  async run() {
    const { flags } = await this.parse(ProjectionStatus);
    const { directoryStatus, projectionStatus } = await import('../../src/app/projection.js');
    const settings = await this.settings(flags);
    const status = await projectionStatus(settings);
    const directory = await directoryStatus(settings);
    const checkpoint =
      status.checkpoint === null
        ? '- (only inside a running server)'
        : `${status.checkpoint}${status.empty ? ' (empty: lookups answer 503 until a projector or `projection rebuild` builds it)' : ''}`;
    this.out(`backend     ${status.where}`);
    this.out(`checkpoint  ${checkpoint}`);
    this.out(`head        ${status.head}`);
    this.out(`lag         ${status.lag === null ? '-' : `${status.lag} events`}`);
    this.out(`directory   ${directory.where}`);
    this.out(`  checkpoint  ${directory.checkpoint}`);
    this.out(`  lag         ${directory.lag} events`);
    return { ...status, directory };
  }
}

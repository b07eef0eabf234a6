import { Flags } from '@oclif/core';
import { BaseCommand } from './_shared/base.js';

export default class Serve extends BaseCommand {
  static override summary = 'Run the HTTP service: obtain-token endpoint, logout, whoami, staff API, health and metrics.';
  static override description =
    'Serves on HOST:PORT (default 127.0.0.1:8000) with its projector running inside, on the embedded default ' +
    '(SQLite log, memory projection) or on Redis when TOKENLEDGER_REDIS_URL is set. Logs one JSON line per ' +
    'request on stdout. SIGTERM or SIGINT stops it gracefully: requests in flight are answered, then it exits 0.';
  static override enableJsonFlag = false;
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --host 0.0.0.0 --port 8080',
    'TOKENLEDGER_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> serve',
  ];

  static override flags = {
    host: Flags.string({ description: 'address to listen on (default: $HOST, else 127.0.0.1)' }),
    port: Flags.integer({ description: 'port to listen on (default: $PORT, else 8000; 0 picks a free one)', min: 0, max: 65535 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const [settings, { serve }] = await Promise.all([this.settings(flags, { host: flags.host, port: flags.port }), import('../src/http/serve.js')]);
    const server = await serve({ settings });
    this.note(`tokenledger listening on ${server.url} (stop with Ctrl-C)`);
    await server.stopped;
  }
}

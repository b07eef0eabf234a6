import { writeFile } from 'node:fs/promises';
import * as Flags from '@oclif/core/flags';
import { BaseCommand } from './_shared/base.js';
import type { DjangoName } from './_shared/help.js';

export default class GenerateSchema extends BaseCommand {
  static override summary = "Print the OpenAPI 3.1 document of the HTTP API (DRF: generateschema).";
  static override description =
    'The document `serve` answers at /api/schema/, for the same settings (TOKENLEDGER_KEYWORD names the Authorization keyword): ' +
    'YAML by default as DRF writes it, JSON with --format openapi-json. Generated from the route table and its zod schemas.';
  static django: DjangoName = { app: 'rest_framework', name: 'generateschema' };
  static override enableJsonFlag = false;
  static override examples = [
    '<%= config.bin %> generateschema > openapi.yaml',
    '<%= config.bin %> generateschema --format openapi-json --file openapi.json',
    '<%= config.bin %> generateschema --title "Accounts API" --api_version 2.1 --url https://api.example.com',
  ];

  // DRF's option names, underscores included, so that `manage.py generateschema` lines carry over.
  static override flags = {
    format: Flags.string({ description: 'openapi (YAML) or openapi-json', options: ['openapi', 'openapi-json'], default: 'openapi' }),
    file: Flags.string({ description: 'write the document to this file instead of stdout' }),
    title: Flags.string({ description: 'info.title (default: tokenledger)' }),
    api_version: Flags.string({ description: "info.version (default: '', as DRF's)" }),
    description: Flags.string({ description: 'info.description' }),
    url: Flags.string({ description: 'the server URL clients use (servers[0].url; default: /)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GenerateSchema);
    const [settings, { schemaDocument }, { renderDocument }] = await Promise.all([
      this.settings(flags),
      import('../src/http/app.js'),
      import('../src/http/openapi/serve.js'),
    ]);
    const document = schemaDocument(settings, {
      ...(flags.title !== undefined ? { title: flags.title } : {}),
      ...(flags.api_version !== undefined ? { version: flags.api_version } : {}),
      ...(flags.description !== undefined ? { description: flags.description } : {}),
      ...(flags.url !== undefined ? { url: flags.url } : {}),
    });
    const text = renderDocument(document, flags.format as 'openapi' | 'openapi-json');
    if (flags.file !== undefined) await writeFile(flags.file, text);
    else process.stdout.write(text);
  }
}

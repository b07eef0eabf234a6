import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventStore } from '../../src/eventstore/open.js';
import { eventStoreContract } from './contract.js';

eventStoreContract('sqlite', {
  async create() {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'tl-sqlite-')), 'events.db')}`;
    return { store: await openEventStore(url), url };
  },
});

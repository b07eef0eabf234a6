import { afterAll } from 'vitest';
import { openEventStore } from '../../src/eventstore/open.js';
import { eventStoreContract } from './contract.js';
import { pgSchemas } from './postgres-fixture.js';

const schemas = pgSchemas('contract');
afterAll(() => schemas.dropAll());

eventStoreContract('postgres', {
  async create() {
    const url = schemas.url();
    return { store: await openEventStore(url), url };
  },
});

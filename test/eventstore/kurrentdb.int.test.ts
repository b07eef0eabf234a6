import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/eventstore/open.js';
import { eventStoreContract } from './contract.js';

/** e.g. kurrentdb://127.0.0.1:2113?tls=false (the KurrentDB of scripts/compose/insecure-dev.yml); unset in this repository's CI. */
const serverUrl = process.env.TOKENLEDGER_TEST_KURRENTDB_URL;

if (serverUrl) {
  eventStoreContract('kurrentdb', {
    async create() {
      // Every store gets streams under a prefix of its own: readAll's server-side filter isolates it.
      const url = `${serverUrl}${serverUrl.includes('?') ? '&' : '?'}streamPrefix=tl-test-${randomBytes(6).toString('hex')}.`;
      return { store: await openEventStore(url), url };
    },
  });
} else {
  console.warn('KurrentDB contract suite SKIPPED: TOKENLEDGER_TEST_KURRENTDB_URL is not set (no KurrentDB server here; e.g. kurrentdb://127.0.0.1:2113?tls=false)');
}

describe('KurrentDB event store without a server', () => {
  it('fails to open with one line that names the setting and not the password', async () => {
    const error = await openEventStore('kurrentdb://admin:s3cret-pw@127.0.0.1:1?tls=false').catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'StoreUnavailableError', code: 'unavailable' });
    expect((error as Error).message).toBe('TOKENLEDGER_STORE: cannot reach KurrentDB at 127.0.0.1:1: server unavailable (is it running, and does tls= match the server?)');
    expect((error as Error).message).not.toContain('s3cret');
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a malformed connection string without echoing it', async () => {
    const error = await openEventStore('kurrentdb://admin:s3cret-pw@127.0.0.1:1?tls=maybe').catch((e: Error) => e);
    expect((error as Error).message).toBe('TOKENLEDGER_STORE: not a valid kurrentdb:// connection string (host 127.0.0.1:1)');
  });
});

// A directory rebuild alone in a process, for tests that kill it: rebuilds the SQLite directory at
// argv[3] from the SQLite log at argv[2], `argv[4]` events per read, saying "rebuilding" on stderr
// at its first batch and "rebuilt" when done. Imports the built code: run `npm run build` first.
import { SqliteDirectory } from '../../dist/src/directory/sqlite.js';
import { DirectoryProjector } from '../../dist/src/directory/projector.js';
import { SqliteEventStore } from '../../dist/src/eventstore/sqlite.js';

const [log, directory, batch] = process.argv.slice(2);
const events = new SqliteEventStore(log);
const store = new SqliteDirectory(directory);
let said = false;
await new DirectoryProjector(events, store, { rebuildBatchSize: Number(batch) }).rebuild(() => {
  if (!said) process.stderr.write('rebuilding\n');
  said = true;
});
process.stderr.write('rebuilt\n');
await store.close();
await events.close();

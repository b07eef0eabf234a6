// A directory projector alone in a process, for tests that kill it: follows the SQLite log at
// argv[2] into the SQLite directory at argv[3], `argv[4]` events per transaction, until killed.
// Imports the built code: run `npm run build` first.
import { SqliteDirectory } from '../../dist/src/directory/sqlite.js';
import { DirectoryProjector } from '../../dist/src/directory/projector.js';
import { SqliteEventStore } from '../../dist/src/eventstore/sqlite.js';

const [log, directory, batch] = process.argv.slice(2);
const projector = new DirectoryProjector(new SqliteEventStore(log), new SqliteDirectory(directory), { batchSize: Number(batch), pollMs: 2 });
projector.start();
process.stderr.write('following\n');

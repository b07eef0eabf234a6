// A directory projector alone in a process, for tests that kill it: follows the SQLite log at
// argv[2] into the SQLite directory at argv[3], `argv[4]` events per transaction, polling every
// `argv[5]` ms (default 2: the tests want as many transactions to kill as they can get), until killed.
// Imports the built code: run `npm run build` first.
import { SqliteDirectory } from '../../dist/src/directory/sqlite.js';
import { DirectoryProjector } from '../../dist/src/directory/projector.js';
import { SqliteEventStore } from '../../dist/src/eventstore/sqlite.js';

const [log, directory, batch, poll = '2'] = process.argv.slice(2);
const projector = new DirectoryProjector(new SqliteEventStore(log), new SqliteDirectory(directory), { batchSize: Number(batch), pollMs: Number(poll) });
projector.start();
process.stderr.write('following\n');

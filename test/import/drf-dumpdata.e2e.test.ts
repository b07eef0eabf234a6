import { describeDrfImport } from './drf-scenario.js';

// `dumpdata --natural-foreign --natural-primary`: users carry no pk, tokens name their user by username.
// The other variants (plain, --natural-foreign, --indent 2) are read in drf-readers.int.test.ts.
describeDrfImport('import drf from dumpdata JSON', 'sqlite', (project) => [project.manifest.dumps.naturalForeignPrimary]);

import { describeDrfImport } from './drf-scenario.js';

describeDrfImport('import drf from a Django PostgreSQL database', 'postgres', (project) => [project.postgresUrl!]);

import { describeDrfImport } from './drf-scenario.js';

describeDrfImport('import drf from a Django SQLite database', 'sqlite', (project) => [`sqlite:${project.sqlitePath}`]);

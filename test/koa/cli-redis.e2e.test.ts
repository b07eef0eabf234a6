import { describe } from 'vitest';
import { cliScenario } from './cli-scenario.js';

describe('CLI changes reach a running server on the Redis projection (on the next request)', () => cliScenario('redis'));

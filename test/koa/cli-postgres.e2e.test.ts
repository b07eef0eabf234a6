import { describe } from 'vitest';
import { cliScenario } from './cli-scenario.js';

describe('CLI changes reach a running server with TOKENLEDGER_STORE=postgres://… and the Redis projection', () => cliScenario('redis', 'postgres'));

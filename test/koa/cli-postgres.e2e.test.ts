import { describe } from 'vitest';
import { cliScenario } from './cli-scenario.js';

describe('the issue-3 scenario with TOKENLEDGER_STORE=postgres://… and the Redis projection', () => cliScenario('redis', 'postgres'));

import { describe } from 'vitest';
import { cliScenario } from './cli-scenario.js';

describe('CLI changes reach a running server on the memory projection (within 250 ms)', () => cliScenario('memory'));

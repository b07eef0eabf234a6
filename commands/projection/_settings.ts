import type { Settings } from '../../src/config.js';
import type { GlobalFlags } from '../_shared/base.js';

/**
 * The settings of a projection command: the global flags over the environment, as every other
 * command reads them (config is imported lazily so that --help stays fast).
 */
export async function settingsFrom(flags: GlobalFlags): Promise<Settings> {
  const { loadSettings } = await import('../../src/config.js');
  const overrides: Record<string, string> = {};
  if (flags.store !== undefined) overrides.store = flags.store;
  if (flags['redis-url'] !== undefined) overrides.redisUrl = flags['redis-url'];
  return loadSettings(overrides);
}

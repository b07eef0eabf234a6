import { StoreUnavailableError } from './port.js';

/** The engine drivers tokenledger does not install itself (optional peer dependencies), by the URL schemes that need them. */
export const OPTIONAL_DRIVERS = {
  kurrentdb: { package: '@kurrent/kurrentdb-client', schemes: 'kurrentdb:// and esdb://' },
  postgres: { package: 'pg', schemes: 'postgres:// and postgresql://' },
} as const;

function missing(error: unknown, pkg: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // Node: "Cannot find package 'pg' imported from …" (ESM) or "Cannot find module 'pg'" (CJS).
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${pkg}'`);
}

/**
 * Imports a module that needs an optional driver. When the driver is not installed, the error is one
 * line that names the package to install, not a stack trace from the module loader.
 */
export async function loadDriver<T>(driver: keyof typeof OPTIONAL_DRIVERS, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const { package: pkg, schemes } = OPTIONAL_DRIVERS[driver];
    if (missing(error, pkg)) throw new StoreUnavailableError(`${schemes} URLs need the package ${pkg}, which is not installed: npm install ${pkg}`);
    throw error;
  }
}

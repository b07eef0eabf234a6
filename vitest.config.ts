import { defineConfig } from 'vitest/config';

// One project per tier, named by the file name (DESIGN.md): `npm test` runs them all, and
// `npm run test:unit` / `test:int` / `test:e2e` one of them. Unit tests need no service, so only
// the other tiers check for Redis, PostgreSQL and the build first.
const tier = (name: 'unit' | 'int' | 'e2e', services: boolean) => ({
  extends: true as const,
  test: { name, include: [`test/**/*.${name}.test.ts`], ...(services ? { globalSetup: ['test/global-setup.ts'] } : {}) },
});

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [tier('unit', false), tier('int', true), tier('e2e', true)],
  },
});

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return /\.test\.[cm]?[jt]s$/.test(entry.name) ? [path] : [];
  });
}

// vitest.config.ts runs one project per tier, chosen by file name: a test file without its tier
// would belong to no project and never run, not even under `npm test`.
describe('test tiers', () => {
  it('every test file names its tier: *.unit.test.ts, *.int.test.ts or *.e2e.test.ts', () => {
    const files = testFiles('test');
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((file) => !/\.(unit|int|e2e)\.test\.ts$/.test(file))).toEqual([]);
  });
});

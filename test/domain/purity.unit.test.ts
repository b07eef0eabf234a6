import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = 'src/domain';
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

// DESIGN.md: the domain gets its clock, ids and secrets as inputs and imports nothing of ours.
describe('src/domain is pure', () => {
  it.each(files)('%s reads no clock, no randomness, no environment and no I/O', (file) => {
    const source = readFileSync(join(DIR, file), 'utf8');
    for (const banned of [/Date\.now/, /new Date\(\s*\)/, /Math\.random/, /randomBytes/, /randomUUID/, /getRandomValues/, /process\./, /performance\./]) {
      expect(source, `${file} uses ${banned}`).not.toMatch(banned);
    }
    const imports = [...source.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
    for (const spec of imports) expect(['node:crypto', 'node:zlib'].includes(spec) || /^\.\/[\w-]+\.js$/.test(spec), `${file} imports ${spec}`).toBe(true);
    // Only the deterministic hash functions of node:crypto: nothing that draws randomness.
    const fromCrypto = source.match(/import\s*\{([^}]*)\}\s*from\s*'node:crypto'/)?.[1]?.split(',').map((s) => s.trim()) ?? [];
    for (const name of fromCrypto) expect(['createHash', 'hash'], `${file} imports ${name} from node:crypto`).toContain(name);
  });
});

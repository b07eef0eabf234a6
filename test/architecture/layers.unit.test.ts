import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ARROWS, allowed, roomOf } from './layers.js';

const ROOTS = ['src', 'commands', 'projections'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.[cm]?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative import of a file (static, `export … from`, dynamic `import()`), as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts'));
}

const files = ROOTS.flatMap(sources);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** The import cycles among `nodes` (strongly connected components of more than one file, or a file importing itself). */
function cycles(nodes: string[]): string[][] {
  const inside = new Set(nodes);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!inside.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1 || graph.get(node)!.includes(node)) found.push(component.sort());
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return found;
}

describe('the layering of docs/architecture.md (allowed arrows: test/architecture/layers.ts)', () => {
  it('reads imports of every kind', () => {
    expect(files.length).toBeGreaterThan(50);
    // Dynamic imports count: the lazy ones are arrows too.
    expect(graph.get(join('src', 'projection', 'open.ts'))).toContain(join('src', 'projection', 'redis', 'store.ts'));
  });

  it('puts every file of src/, commands/ and projections/ in a room', () => {
    expect(files.filter((file) => roomOf(file) === null)).toEqual([]);
  });

  it('names only rooms in its arrows', () => {
    const rooms = Object.keys(ARROWS);
    for (const [room, targets] of Object.entries(ARROWS)) for (const target of targets) expect(rooms, `${room} → ${target}`).toContain(target);
  });

  it('has no import that the arrows do not allow', () => {
    const wrong: string[] = [];
    for (const [file, imports] of graph) {
      const from = roomOf(file)!;
      for (const target of imports) {
        const to = roomOf(target);
        if (to === null || !allowed(from, to)) wrong.push(`${file} imports ${target} (${from} → ${to ?? 'outside every room'})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import cycle inside src/app', () => {
    expect(cycles(files.filter((file) => roomOf(file) === 'src/app'))).toEqual([]);
  });
});

// node bench/heapsnapshot.mjs <before.heapsnapshot> <after.heapsnapshot> [top]
//
// What a V8 heap snapshot holds, by constructor name (objects), or by node type (strings, code,
// arrays, closures...): count and self size. A snapshot is taken after a full GC, so its total is
// the live heap (heapUsed after GC). With two snapshots, prints both totals and the `top` rows
// (default 25) that grew the most: a leak shows as a constructor whose count climbs with time at
// constant data. Used by bench/soak.mjs (`--snapshots`); standalone for any two snapshots.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** { total, nodes, rows: Map<label, { count, size }> } of one .heapsnapshot file. */
export function summarise(path) {
  const snapshot = JSON.parse(readFileSync(path, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const { nodes, strings } = snapshot;
  const rows = new Map();
  let total = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const size = nodes[i + sizeAt];
    total += size;
    // Objects by their constructor; everything else (strings, code, arrays, closures, hidden) by type.
    const label = type === 'object' ? strings[nodes[i + nameAt]] : `(${type})`;
    const row = rows.get(label);
    if (row) {
      row.count += 1;
      row.size += size;
    } else rows.set(label, { count: 1, size });
  }
  return { total, nodes: nodes.length / width, rows };
}

const MiB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Lines describing the growth from `before` to `after` (summaries), the `top` rows by size growth. */
export function growth(before, after, top = 25) {
  const labels = new Set([...before.rows.keys(), ...after.rows.keys()]);
  const diffs = [...labels].map((label) => {
    const a = before.rows.get(label) ?? { count: 0, size: 0 };
    const b = after.rows.get(label) ?? { count: 0, size: 0 };
    return { label, count: b.count - a.count, size: b.size - a.size, after: b };
  });
  diffs.sort((x, y) => y.size - x.size);
  const lines = [`live heap ${MiB(before.total)} -> ${MiB(after.total)} (${after.total >= before.total ? '+' : ''}${((after.total / before.total - 1) * 100).toFixed(1)}%), ${before.nodes} -> ${after.nodes} objects`];
  for (const d of diffs.slice(0, top)) {
    if (d.size <= 0) break;
    lines.push(`  ${d.label.slice(0, 48).padEnd(48)} ${d.count >= 0 ? '+' : ''}${d.count} objects, ${d.size >= 0 ? '+' : ''}${(d.size / 1024).toFixed(0)} KiB (now ${d.after.count}, ${MiB(d.after.size)})`);
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [beforePath, afterPath, top] = process.argv.slice(2);
  if (!beforePath || !afterPath) {
    console.error('usage: node bench/heapsnapshot.mjs <before.heapsnapshot> <after.heapsnapshot> [top]');
    process.exit(2);
  }
  console.log(growth(summarise(beforePath), summarise(afterPath), Number(top ?? 25)).join('\n'));
}

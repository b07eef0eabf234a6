import type { DrfImportSummary } from '../../src/app/import-drf.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The summary as lines for a person: counts, passwords by algorithm, conflicts by name. Never a key or a hash. */
export function describeImport(s: DrfImportSummary): string[] {
  const lines: string[] = [];
  const conflicts = s.conflicts.length;
  if (s.dryRun) lines.push(`Dry run of ${s.source}: nothing was appended.`);
  if (!s.dryRun && s.events === 0) {
    lines.push(
      s.users === s.unchanged
        ? `Nothing to import: all ${plural(s.users, 'user')} of ${s.source} are already in tokenledger (0 events appended).`
        : `Nothing appended from ${s.source} (0 events): ${plural(s.unchanged, 'user')} already imported.`,
    );
  } else {
    lines.push(
      `${s.dryRun ? 'Would import' : 'Imported'} from ${s.source}: ${plural(s.created, 'user')} created, ` +
        `${plural(s.tokens, 'DRF key')} as tokens, ${plural(s.events, 'event')}${s.dryRun ? ' to append' : ' appended'}.`,
    );
    if (s.unchanged > 0) lines.push(`${plural(s.unchanged, 'user')} already imported, unchanged.`);
    if (s.overwritten > 0) lines.push(`${plural(s.overwritten, 'existing user')} ${s.dryRun ? 'would be' : 'were'} overwritten with DRF's data (--overwrite).`);
  }
  const passwords = Object.entries(s.passwords)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([algorithm, n]) => `${algorithm} ${n}`);
  if (passwords.length > 0) lines.push(`Passwords by algorithm: ${passwords.join(', ')}.`);
  const none = (s.passwords.unusable ?? 0) + (s.passwords.unsupported ?? 0);
  if (none > 0) {
    lines.push(
      `${plural(none, 'user')} without a password (unusable in Django: ${s.passwords.unusable ?? 0}; ` +
        `unsupported algorithm such as crypt: ${s.passwords.unsupported ?? 0}); their keys still work.`,
    );
  }
  if (conflicts > 0) {
    lines.push(`${plural(conflicts, 'conflict')}: these users exist in tokenledger with other data and were skipped (--overwrite takes DRF's data):`);
    for (const c of s.conflicts) {
      lines.push(c.differs.includes('deleted') ? `  ${c.username}: deleted here; the username stays reserved` : `  ${c.username}: ${c.differs.join(', ')} differ`);
    }
  }
  if (s.invalid.length > 0) {
    lines.push(`${plural(s.invalid.length, 'user')} skipped, not valid in tokenledger:`);
    for (const i of s.invalid) lines.push(`  ${i.username}: ${i.reason}`);
  }
  if (s.orphanTokens > 0) lines.push(`${plural(s.orphanTokens, 'DRF key')} without a user in the source, not imported.`);
  return lines;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The longest duration accepted: 100 years. Beyond a few thousand years `toISOString()` leaves the
 * 4-digit year (`+010239-…`), which breaks the ordering of ISO strings the decider relies on, and
 * near 270,000 years it throws a RangeError.
 */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

/** Parses `90d`, `10m`, `1h30m`, `45s`, `0`; returns milliseconds, or null when malformed or over 100 years. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const parts = trimmed.match(/^(\d+[smhdw])+$/) ? trimmed.match(/\d+[smhdw]/g) : null;
  if (!parts) return null;
  let total = 0;
  for (const part of parts) total += Number(part.slice(0, -1)) * UNITS[part.slice(-1)]!;
  return Number.isSafeInteger(total) && total <= MAX_DURATION_MS ? total : null;
}

import * as Flags from '@oclif/core/flags';

/** A point in time (ISO 8601, e.g. 2025-01-31T12:00:00Z); a bad value is a usage error. */
export const timeFlag = Flags.custom<Date>({
  helpValue: '<time>',
  async parse(input) {
    const ms = Date.parse(input);
    if (Number.isNaN(ms)) throw new Error(`"${input}" is not a time (use ISO 8601, e.g. 2025-01-31T12:00:00Z)`);
    return new Date(ms);
  },
});

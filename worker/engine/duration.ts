/**
 * Durations in specs are short strings ("500ms", "30s", "5m", "1h", "1d", "1h30m") rather than numbers,
 * so a reader never has to guess the unit.
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Anchored so that only whole strings of `<digits><unit>` groups match; used for JSON Schema too. */
export const DURATION_PATTERN = /^(\d+(ms|s|m|h|d))+$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };
// Longer than any sensible duration; keeps the regex and the arithmetic cheap on hostile input.
const MAX_LENGTH = 64;

/**
 * Milliseconds in a duration string, or null when it is not one.
 * @example parseDuration("1h30m") // 5_400_000
 */
export function parseDuration(s: string): number | null {
  if (typeof s !== "string" || s.length > MAX_LENGTH || !DURATION_PATTERN.test(s)) return null;
  let total = 0;
  for (const [, digits, unit] of s.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(digits) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
  }
  return Number.isSafeInteger(total) ? total : null;
}

/** "30d" for 30 days: used to phrase limits in error messages the way users write them. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", DAY_MS],
    ["h", HOUR_MS],
    ["m", MINUTE_MS],
    ["s", SECOND_MS],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

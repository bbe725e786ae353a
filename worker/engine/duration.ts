/**
 * Durations in specs are short strings ("500ms", "30s", "5m", "1h", "1d", "1h30m") rather than numbers,
 * so a reader never has to guess the unit.
 */
import { DURATION_PATTERN, parseDuration } from "@updraft/plugin-sdk/protocol";

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The protocol's one duration form; anchored, and used for JSON Schema too. */
export { DURATION_PATTERN, parseDuration };

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

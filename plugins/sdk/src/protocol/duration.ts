/**
 * Duration strings (`500ms`, `30s`, `5m`, `1h30m`, `1d`), the one form of the wire (an operator's
 * `timeout`, a `duration()` input field) and of pipeline specs. The pattern goes into JSON Schemas
 * that the platform evaluates on tenants' data, so it passes the same regex-hazard rule as any
 * manifest's: no quantified group holds a quantifier. Hence at most five `<digits><unit>` parts of at
 * most nine digits, spelled out, instead of `(\d+(ms|s|m|h|d))+`.
 */
const PART = "\\d{1,9}(?:ms|s|m|h|d)";

/** Anchored: only whole duration strings match. */
export const DURATION_PATTERN = new RegExp(`^${PART}(?:${PART})?(?:${PART})?(?:${PART})?(?:${PART})?$`);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Longer than any sensible duration; keeps the regex and the arithmetic cheap on hostile input. */
const MAX_LENGTH = 64;

/**
 * Milliseconds in a duration string, or `null` when it is not one.
 *
 * @example
 * parseDuration("1m30s"); // 90_000
 */
export function parseDuration(text: string): number | null {
  if (typeof text !== "string" || text.length > MAX_LENGTH || !DURATION_PATTERN.test(text)) return null;
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(digits) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
  }
  return Number.isSafeInteger(total) ? total : null;
}

/** Small zod helpers for plugin schemas: secret connection fields and duration strings. */
import { z } from "zod";

/** Durations are `<digits><unit>` groups, as in pipeline specs: `500ms`, `30s`, `5m`, `1h30m`, `1d`. */
export const DURATION_PATTERN = /^(\d+(ms|s|m|h|d))+$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds in a duration string, or `null` when it is not one.
 *
 * @example
 * parseDuration("1m30s"); // 90_000
 */
export function parseDuration(text: string): number | null {
  // The length cap keeps hostile input from making the regex or the sum expensive.
  if (text.length > 64 || !DURATION_PATTERN.test(text)) return null;
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(digits) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
  }
  return Number.isSafeInteger(total) ? total : null;
}

/**
 * A duration string field; its JSON Schema carries the pattern so the platform checks it at save time.
 *
 * @example
 * const input = z.strictObject({ timeout: duration().default("30s") });
 */
export function duration() {
  return z
    .string()
    .regex(DURATION_PATTERN, 'expected a duration such as "500ms", "30s", "5m" or "1h"')
    .refine((text) => parseDuration(text) !== null, "duration is too long");
}

/**
 * Marks a connection field as secret: the manifest's JSON Schema gets `"writeOnly": true`, so the
 * platform encrypts it at rest and never shows it again.
 *
 * @example
 * const connection = z.strictObject({ token: secret(z.string().min(1)), workspace: z.string() });
 */
export function secret<T extends z.ZodType>(schema: T): T {
  return schema.meta({ writeOnly: true });
}

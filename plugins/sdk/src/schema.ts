/** Small zod helpers for plugin schemas: secret connection fields and duration strings. */
import { z } from "zod";

import { DURATION_PATTERN, parseDuration } from "./protocol/duration.ts";

export { DURATION_PATTERN, parseDuration };

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

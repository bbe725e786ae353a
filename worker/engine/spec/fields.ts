/** Zod building blocks shared by the spec's sections: names, durations, JSON Schemas. */
import { z } from "zod";
import { DAY_MS, DURATION_PATTERN, formatDuration, parseDuration } from "../duration";
import { jsonSchemaProblems, schemaMismatch } from "../json-schema";

/** Task ids and param names are read as JSONata names (`tasks.fetch`, `params.channel`). */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Mirrors the tenant secret names of the API (contracts), which engine/ may not import. */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const TaskId = z
  .string()
  .regex(
    NAME_PATTERN,
    "task id must start with a letter or _ and contain only letters, digits and _ (at most 64): " +
      "expressions read it as tasks.<id>, where a - would be read as subtraction",
  );

export const ParamName = z
  .string()
  .regex(
    NAME_PATTERN,
    "param name must start with a letter or _ and contain only letters, digits and _ (at most 64)",
  );

const DURATION_EXAMPLE = 'a duration such as "500ms", "30s", "5m", "1h" or "1h30m"';

/** A positive duration string no longer than `max` (30 days unless a field says otherwise). */
export function duration(max = 30 * DAY_MS) {
  return (
    z
      .string()
      // One check with one message; parseDuration bounds the length before running its pattern.
      .superRefine((value, ctx) => {
        const ms = parseDuration(value);
        if (ms === null) ctx.addIssue({ code: "custom", message: `must be ${DURATION_EXAMPLE}` });
        else if (ms > max)
          ctx.addIssue({ code: "custom", message: `must be at most ${formatDuration(max)}` });
        else if (ms === 0) ctx.addIssue({ code: "custom", message: 'must be greater than 0, e.g. "30s"' });
      })
      // Editors still get the pattern.
      .meta({ pattern: DURATION_PATTERN.source })
  );
}

/**
 * A JSON Schema object whose structure is sound and, when it has a `default`, whose default satisfies it.
 * Plain objects only: `true`/`false` schemas say nothing useful for a param or a payload.
 */
export function jsonSchemaObject(what: string) {
  return z
    .record(z.string(), z.unknown(), { error: `${what} must be a JSON Schema object, e.g. { type: string }` })
    .superRefine((schema, ctx) => {
      const problems = jsonSchemaProblems(schema, { safeRegex: true });
      for (const problem of problems)
        ctx.addIssue({ code: "custom", message: problem.message, path: problem.path });
      if (problems.length > 0 || !Object.hasOwn(schema, "default")) return;
      const mismatch = schemaMismatch(schema, schema.default);
      if (mismatch?.broken) ctx.addIssue({ code: "custom", message: mismatch.message });
      else if (mismatch) {
        const message = `default does not match the schema: ${mismatch.message}`;
        ctx.addIssue({ code: "custom", message, path: ["default"] });
      }
    });
}

export const RETRY_BACKOFFS = ["constant", "linear", "exponential"] as const;
export const RetryBackoff = z.enum(RETRY_BACKOFFS);

export const TRIGGER_RULES = [
  "all_success",
  "all_failed",
  "all_done",
  "all_skipped",
  "one_success",
  "one_failed",
  "one_done",
  "none_failed",
  "none_failed_min_one_success",
  "none_skipped",
  "always",
] as const;
export const TriggerRule = z.enum(TRIGGER_RULES);
export type TriggerRule = z.infer<typeof TriggerRule>;

/** Retry and timeout settings: on a task, and as pipeline-wide `defaults` for every task. */
export const retryPolicyFields = {
  retries: z.int().min(0).max(20).optional(),
  retry_delay: duration().optional(),
  retry_backoff: RetryBackoff.optional(),
  max_retry_delay: duration().optional(),
  timeout: duration().optional(),
};

/** A longest delay shorter than the first one is a contradiction worth stopping at save time. */
export function checkRetryDelays(
  value: { retry_delay?: string | undefined; max_retry_delay?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const delay = value.retry_delay === undefined ? null : parseDuration(value.retry_delay);
  const max = value.max_retry_delay === undefined ? null : parseDuration(value.max_retry_delay);
  if (delay !== null && max !== null && max < delay) {
    ctx.addIssue({
      code: "custom",
      message: "max_retry_delay must not be shorter than retry_delay",
      path: ["max_retry_delay"],
    });
  }
}

/**
 * `core/sleep`: a durable, stateless wait. Nothing is held between pokes: each call compares the
 * task's first start (`task_started_at`, sent by the platform) with now and answers `waiting` with
 * the time left, so a sleep survives plugin restarts and never occupies a worker slot.
 */

import { defineOperator, duration, NonRetriableError, parseDuration } from "@updraft/plugin-sdk";
import { z } from "zod";

const MAX_SLEEP_MS = 30 * 86_400_000;

export const sleep = defineOperator({
  name: "sleep",
  kind: "sensor",
  description:
    "Waits `duration` (e.g. `30s`, `5m`, `2h`, at most 30d) from when the task first started, then succeeds " +
    "with the milliseconds actually slept.",
  input: z.strictObject({ duration: duration() }),
  output: z.strictObject({ slept_ms: z.number().int().min(0) }),
  timeout: "10s",
  run(ctx) {
    const total = parseDuration(ctx.input.duration) ?? 0;
    if (total > MAX_SLEEP_MS) throw new NonRetriableError("duration may be at most 30d");
    const startedAt = ctx.invocation.task_started_at;
    // Without the start time every poke would restart the clock and the sleep would never end.
    if (startedAt === undefined) throw new NonRetriableError("the platform did not send task_started_at");
    const elapsed = Date.now() - Date.parse(startedAt);
    if (elapsed < total) return ctx.waiting(total - elapsed);
    return { slept_ms: Math.max(0, elapsed) };
  },
});

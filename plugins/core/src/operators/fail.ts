/** `core/fail`: fails on purpose, to exercise retries, trigger rules and alerts in examples and tests. */

import {
  defineOperator,
  duration,
  NonRetriableError,
  parseDuration,
  RetryAfterError,
} from "@updraft/plugin-sdk";
import { z } from "zod";

export const fail = defineOperator({
  name: "fail",
  kind: "action",
  description:
    "Always fails with `message`. Retryable only when `retryable` is true; `retry_after` also asks the " +
    "platform to wait that long before the next attempt.",
  input: z.strictObject({
    message: z.string().max(2_000).default("failed on purpose"),
    retryable: z.boolean().default(false),
    retry_after: duration().optional(),
  }),
  output: z.strictObject({}),
  timeout: "10s",
  run({ input }) {
    if (input.retry_after !== undefined) {
      throw new RetryAfterError(parseDuration(input.retry_after) ?? 0, input.message);
    }
    throw input.retryable ? new Error(input.message) : new NonRetriableError(input.message);
  },
});

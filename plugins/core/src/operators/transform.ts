/**
 * `core/transform`: reshapes data with a JSONata expression. Its output is the expression's value
 * itself (any JSON), so downstream tasks read `tasks.<id>.output` without an extra wrapper.
 */

import { defineOperator, NonRetriableError } from "@updraft/plugin-sdk";
import { LIMITS } from "@updraft/plugin-sdk/expression";
import { z } from "zod";
import { evaluateBounded } from "../expression/evaluate.ts";

// jsonata marks its own function values this way; they have no JSON form.
const isFunctionValue = (value: unknown) =>
  typeof value === "function" ||
  (typeof value === "object" &&
    value !== null &&
    ("_jsonata_lambda" in value || "_jsonata_function" in value));

type Json = z.output<ReturnType<typeof z.json>>;

/** Plain JSON from a jsonata result: sequences become arrays, "nothing selected" becomes null. */
export function toJson(value: unknown): Json {
  if (value === undefined) return null;
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (isFunctionValue(item))
      throw new NonRetriableError("the expression returned a function, which is not JSON");
    return item;
  });
  if (text.length > LIMITS.stringLength * 2) throw new NonRetriableError("the result is larger than 2 MB");
  return JSON.parse(text) as Json;
}

export const transform = defineOperator({
  name: "transform",
  kind: "action",
  description:
    "Evaluates a JSONata `expression` over `data`, or, when `data` is absent, over the run context " +
    "`{params, trigger, tasks, run, item}`. The output is the expression's value (null when it selects nothing).",
  input: z.strictObject({
    expression: z.string().min(1).max(LIMITS.expressionLength),
    data: z.json().optional(),
  }),
  output: z.json(),
  timeout: "10s",
  context: true,
  async run(ctx) {
    const data = ctx.input.data !== undefined ? ctx.input.data : (ctx.context ?? {});
    const result = await evaluateBounded(ctx.input.expression, data, ctx.signal);
    return toJson(result);
  },
});

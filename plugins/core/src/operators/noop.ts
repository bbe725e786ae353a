/** `core/noop`: does nothing, fast. The unit of the platform's per-hop overhead benchmarks. */

import { defineOperator } from "@updraft/plugin-sdk";
import { z } from "zod";

export const noop = defineOperator({
  name: "noop",
  kind: "action",
  description:
    "Does nothing and succeeds. Echoes `value` as its output when given; other fields are ignored.",
  // Loose on purpose: a placeholder task should accept whatever `with:` it is given.
  input: z.looseObject({ value: z.json().optional() }),
  output: z.strictObject({ value: z.json().optional() }),
  timeout: "10s",
  run: ({ input }) => (input.value === undefined ? {} : { value: input.value }),
});

/** The whole pipeline spec (DESIGN.md §3, API.md "Wire details"). Unknown fields are errors everywhere. */
import { z } from "zod";
import { cronProblem, isTimeZone } from "../schedule";
import {
  checkRetryDelays,
  duration,
  jsonSchemaObject,
  ParamName,
  retryPolicyFields,
  TriggerRule,
} from "./fields";
import { MAX_TASKS, Task } from "./task";
import { Trigger } from "./trigger";

export const MAX_TRIGGERS = 50;

export const Schedule = z.strictObject({
  cron: z
    .string()
    .superRefine((cron, ctx) => {
      const problem = cronProblem(cron);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .meta({ description: 'Five-field cron ("0 9 * * 1-5") or @hourly, @daily, @weekly, @monthly, @yearly' }),
  timezone: z
    .string()
    .refine(isTimeZone, "unknown time zone: use an IANA name such as Europe/Berlin or UTC")
    .default("UTC"),
  catchup: z
    .boolean()
    .default(false)
    .meta({ description: "Create the runs of intervals missed while paused or before the pipeline existed" }),
});
export type Schedule = z.infer<typeof Schedule>;

const Defaults = z
  .strictObject({ ...retryPolicyFields, trigger_rule: TriggerRule.optional() })
  .superRefine(checkRetryDelays);

const Concurrency = z.strictObject({
  max_active_runs: z
    .int()
    .min(1)
    .max(1_000)
    .optional()
    .describe("Runs of this pipeline running at once; later ones wait, queued, oldest first."),
  max_active_tasks: z
    .int()
    .min(1)
    .max(1_000)
    .optional()
    .describe(
      "Task instances dispatched at once across all running runs of this pipeline (as Airflow's per-DAG limit).",
    ),
});

export const PipelineSpecSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(200)
      .refine((name) => name.length === 0 || /\S/.test(name), "name must not be blank"),
    description: z.string().max(5_000).optional(),
    params: z
      .record(ParamName, jsonSchemaObject("a param"))
      .optional()
      .meta({ description: "Run parameters: name → JSON Schema (with an optional default)" }),
    schedule: Schedule.optional(),
    triggers: z.array(Trigger).max(MAX_TRIGGERS).optional(),
    defaults: Defaults.optional().meta({
      description: "Retry, timeout and trigger-rule defaults for every task",
    }),
    concurrency: Concurrency.optional(),
    timeout: duration().optional().meta({ description: "Run timeout" }),
    tasks: z.array(Task).min(1, "a pipeline needs at least one task").max(MAX_TASKS),
  })
  .meta({ title: "Updraft pipeline" });

/** A validated spec with defaults applied (timezone, catchup, needs, with, webhook respond/dedupe_window). */
export type PipelineSpec = z.infer<typeof PipelineSpecSchema>;

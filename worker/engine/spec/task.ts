/** One task of the DAG: which operator it runs (`uses`), with what input, after which tasks. */
import validRange from "semver/ranges/valid.js";
import { z } from "zod";
import { checkRetryDelays, retryPolicyFields, TaskId, TriggerRule } from "./fields";

export const MAX_TASKS = 500;
/** Airflow caps mapping at 1,024 by default; the same order of magnitude keeps one run's fan-out bounded. */
export const MAX_FOR_EACH_ITEMS = 1_000;

export const USES_PATTERN = /^([a-z0-9][a-z0-9-]{0,62})\/([a-z0-9][a-z0-9_-]{0,62})@(\S(?:.*\S)?)$/;

/** `plugin/operator@range` split into its parts, or null; the range is not resolved here. */
export function parseUses(uses: string): { plugin: string; operator: string; range: string } | null {
  const [, plugin, operator, range] = USES_PATTERN.exec(uses) ?? [];
  if (plugin === undefined || operator === undefined || range === undefined) return null;
  return { plugin, operator, range };
}

const Uses = z
  .string()
  .regex(
    USES_PATTERN,
    'uses must be plugin/operator@range, e.g. "slack/post-message@^1" (plugin: a-z, 0-9 and -; operator: also _)',
  )
  .superRefine((uses, ctx) => {
    const parsed = parseUses(uses);
    // semver's range parser is linear, but a range longer than this is not a version constraint.
    if (parsed && (parsed.range.length > 128 || validRange(parsed.range) === null)) {
      ctx.addIssue({
        code: "custom",
        message: `"${parsed.range.slice(0, 128)}" is not a semver range: use e.g. ^1, ~1.2, 1.2.3, ">=1 <2" or *`,
      });
    }
  });

export const Task = z
  .strictObject({
    id: TaskId,
    uses: Uses.meta({
      description: "plugin/operator@semver-range, resolved against the tenant's installations",
    }),
    with: z
      .record(z.string(), z.unknown(), { error: "with must be an object of operator inputs" })
      .default({})
      .meta({ description: "Operator input; strings may contain {{ expressions }}" }),
    needs: z
      .array(z.string(), { error: "needs must be a list of task ids" })
      .max(MAX_TASKS)
      .default([])
      .meta({ description: "Ids of the tasks that must finish before this one (see trigger_rule)" }),
    trigger_rule: TriggerRule.optional(),
    when: z
      .string({ error: 'when must be a "{{ expression }}" string' })
      .optional()
      .meta({ description: "{{ expression }}; the task is skipped when it evaluates falsy" }),
    for_each: z
      .union([z.string(), z.array(z.unknown()).max(MAX_FOR_EACH_ITEMS)], {
        error: 'for_each must be a "{{ expression }}" string or a list of items',
      })
      .optional()
      .meta({ description: "Runs one mapped instance per item; the item is `item` in expressions" }),
    ...retryPolicyFields,
  })
  .superRefine(checkRetryDelays);
export type Task = z.infer<typeof Task>;

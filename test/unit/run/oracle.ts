/**
 * Airflow's trigger rules as a test oracle: only the "may run" conditions, written out plainly from
 * trigger_rule_dep.py and independent of the planner's implementation.
 */
import {
  type Effect,
  isTerminal,
  type RunPlan,
  type RunState,
  type TaskStatus,
  type TriggerRule,
  taskKey,
} from "../../../worker/engine/index";

export type Violation = {
  kind: "rule" | "attempts" | "cap" | "settled" | "timer" | "duplicate";
  detail: string;
};

/** A dispatch the rule did not allow yet, or an attempt past 1 + retries. */
export function dispatchViolations(
  plan: RunPlan,
  dispatch: Extract<Effect, { type: "dispatch" }>,
  upstream: readonly TaskStatus[],
): Violation[] {
  const planned = plan.tasks.get(dispatch.task);
  if (!planned) return [{ kind: "rule", detail: `unknown task ${dispatch.task}` }];
  const violations: Violation[] = [];
  if (!ruleAllows(planned.rule, upstream))
    violations.push({ kind: "rule", detail: `${dispatch.key} ${planned.rule} [${upstream}]` });
  if (dispatch.attempt > 1 + planned.retry.retries)
    violations.push({ kind: "attempts", detail: `${dispatch.key} #${dispatch.attempt}` });
  return violations;
}

/** More slots held than the cap, or an instance settled by its rule that had run anyway. */
export function stateViolations(plan: RunPlan, state: RunState): Violation[] {
  const violations: Violation[] = [];
  let active = 0;
  for (const [task, { instances }] of Object.entries(state.tasks)) {
    for (const instance of instances) {
      if (instance.status === "scheduled" || instance.status === "running") active++;
      const settledUnrun =
        instance.status === "upstream_failed" ||
        (instance.status === "skipped" && instance.reason === "trigger_rule");
      if (settledUnrun && instance.attempt > 0)
        violations.push({ kind: "settled", detail: taskKey(task, instance.map_index) });
    }
  }
  if (active > (plan.max_active_tasks ?? Number.POSITIVE_INFINITY))
    violations.push({ kind: "cap", detail: `${active} active` });
  return violations;
}

export function ruleAllows(rule: TriggerRule, upstream: readonly TaskStatus[]): boolean {
  if (upstream.length === 0 || rule === "always") return true;
  const count = (...states: TaskStatus[]) => upstream.filter((s) => states.includes(s)).length;
  const all = upstream.length;
  const failures = count("failed", "upstream_failed", "cancelled");
  switch (rule) {
    case "all_success":
      return count("success") === all;
    case "all_failed":
      return failures === all;
    case "all_done":
      return upstream.every(isTerminal);
    case "all_skipped":
      return count("skipped") === all;
    case "one_success":
      return count("success") > 0;
    case "one_failed":
      return failures > 0;
    case "one_done":
      return count("success", "failed", "cancelled") > 0;
    case "none_failed":
      return count("success", "skipped") === all;
    case "none_failed_min_one_success":
      return count("success", "skipped") === all && count("success") > 0;
    case "none_skipped":
      return upstream.every(isTerminal) && count("skipped") === 0;
    default:
      throw new Error(`unknown rule ${String(rule satisfies never)}`);
  }
}

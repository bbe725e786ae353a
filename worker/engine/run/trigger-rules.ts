/**
 * Trigger rules with Airflow's semantics (airflow/ti_deps/deps/trigger_rule_dep.py, run by the scheduler
 * with flag_upstream_failed): counts over the upstream task *instances* — a mapped upstream contributes
 * every instance, or its one placeholder until it is expanded — decide whether a pending task runs,
 * waits, or is settled as skipped / upstream_failed without running.
 *
 * Two places where Updraft has a state Airflow lacks or vice versa:
 * - `cancelled` (run cancelled or timed out, then partly cleared) counts as `failed`: it did not succeed
 *   and nobody chose to skip it.
 * - Airflow's `removed` never happens here (a mapped task's instance count is fixed once expanded).
 */
import type { TriggerRule } from "../spec/fields";
import type { TaskStatus } from "./state";

export type UpstreamCounts = {
  /** Upstream instances, finished or not. */
  total: number;
  success: number;
  skipped: number;
  failed: number;
  upstream_failed: number;
  /** Finished (terminal) instances: the sum of the four above. */
  done: number;
};

/** "upstream_failed" and "skip" settle the task without running it, as Airflow's set_state does. */
export type RuleVerdict = "wait" | "run" | "skip" | "upstream_failed";

export function countUpstream(statuses: Iterable<TaskStatus>): UpstreamCounts {
  const counts: UpstreamCounts = { total: 0, success: 0, skipped: 0, failed: 0, upstream_failed: 0, done: 0 };
  for (const status of statuses) {
    counts.total++;
    const bucket = bucketOf(status);
    if (bucket === null) continue;
    counts[bucket]++;
    counts.done++;
  }
  return counts;
}

function bucketOf(status: TaskStatus): "success" | "skipped" | "failed" | "upstream_failed" | null {
  switch (status) {
    case "success":
    case "skipped":
    case "failed":
    case "upstream_failed":
      return status;
    case "cancelled":
      return "failed";
    case "pending":
    case "scheduled":
    case "running":
    case "waiting":
    case "up_for_retry":
      return null;
    default: {
      const never: never = status;
      throw new Error(`unknown task status ${String(never)}`);
    }
  }
}

/**
 * The verdict for a pending task. Settling verdicts come first, exactly as in Airflow, and several are
 * eager: all_success gives up at the first failed upstream, one_success runs at the first success.
 * @example evaluateTriggerRule("all_success", countUpstream(["success", "skipped"])) // "skip"
 */
export function evaluateTriggerRule(rule: TriggerRule, c: UpstreamCounts): RuleVerdict {
  // A task without upstream runs whatever its rule says; `always` does not even wait for its upstream.
  if (c.total === 0 || rule === "always") return "run";
  const allDone = c.done >= c.total;
  const failures = c.failed + c.upstream_failed;
  const when = (condition: boolean): RuleVerdict => (condition ? "run" : "wait");
  switch (rule) {
    case "all_success":
      if (failures > 0) return "upstream_failed";
      if (c.skipped > 0) return "skip";
      return when(c.success === c.total);
    case "all_failed":
      if (c.success > 0 || c.skipped > 0) return "skip";
      return when(failures === c.total);
    case "all_done":
      return when(allDone);
    case "all_skipped":
      if (c.success > 0 || failures > 0) return "skip";
      return when(c.skipped === c.total);
    case "one_success":
      if (allDone && c.done === c.skipped) return "skip";
      if (allDone && c.success === 0) return "upstream_failed";
      return when(c.success > 0);
    case "one_failed":
      if (allDone && failures === 0) return "skip";
      return when(failures > 0);
    case "one_done":
      // Airflow counts only success and failed here: an upstream_failed upstream did not "finish".
      if (allDone && c.success + c.failed === 0) return "skip";
      return when(c.success + c.failed > 0);
    case "none_failed":
      if (failures > 0) return "upstream_failed";
      return when(c.success + c.skipped === c.total);
    case "none_failed_min_one_success":
      if (failures > 0) return "upstream_failed";
      if (c.skipped === c.total) return "skip";
      return when(c.success + c.skipped === c.total);
    case "none_skipped":
      if (c.skipped > 0) return "skip";
      return when(allDone);
    default: {
      const never: never = rule;
      throw new Error(`unknown trigger rule ${String(never)}`);
    }
  }
}

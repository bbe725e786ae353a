/**
 * The error shown for a task instance (API.md: `null` or `{kind, message}`). Failures carry the error
 * recorded where they were made; instances that never ran to the end (cancelled, upstream_failed) are
 * explained from the run, so a run of 1,000 cancelled instances does not store 1,000 copies of a reason.
 */
import { type TaskError, taskError } from "../task-error";
import type { RunPlan } from "./plan";
import type { RunState, TaskInstance, TaskStatus } from "./state";

export function instanceError(
  plan: RunPlan,
  state: RunState,
  task: string,
  instance: TaskInstance,
): TaskError | null {
  switch (instance.status) {
    case "failed":
    case "up_for_retry":
      return instance.error;
    case "cancelled":
      // The run's error says why it ended early ("cancelled by a person", "run timed out after 1h").
      return taskError("cancelled", state.error ?? "cancelled with its run");
    case "upstream_failed":
      return taskError("upstream_failed", upstreamMessage(plan, state, task));
    default:
      return null;
  }
}

/** Statuses the trigger rules count as failed (trigger-rules.ts: a cancelled upstream did not succeed). */
const FAILED: ReadonlySet<TaskStatus> = new Set(["failed", "upstream_failed", "cancelled"]);

function upstreamMessage(plan: RunPlan, state: RunState, task: string): string {
  const needs = plan.tasks.get(task)?.needs ?? [];
  const failed = needs.filter((up) => state.tasks[up]?.instances.some((i) => FAILED.has(i.status)));
  if (failed.length === 0) return "an upstream task failed";
  const names = failed.map((up) => `"${up}"`).join(", ");
  return failed.length === 1 ? `upstream task ${names} failed` : `upstream tasks ${names} failed`;
}

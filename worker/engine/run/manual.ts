/**
 * What people do to a run (API.md: cancel, retry, mark) and the DO's start. A request that makes no
 * sense in the run's current state is a conflict (409), never a silent no-op, except repeating a mark,
 * which is idempotent so that a retried HTTP request succeeds.
 */
import { taskError } from "../task-error";
import type { Draft } from "./draft";
import type { RunEvent } from "./events";
import { settle } from "./gates";
import { downstreamOf } from "./plan";
import { type FinishedRunStatus, isTerminal, placeholder, type TaskInstance } from "./state";

export type Conflict = { rejected: "conflict"; detail: string };
type Outcome = Conflict | string | null;

export function onStart(d: Draft): Outcome {
  if (d.run.status !== "queued") return conflict(`run is already ${d.run.status}`);
  d.setRun({ status: "running", started_at: d.now, deadline_at: deadline(d) });
  return null;
}

export function onCancel(d: Draft, event: Extract<RunEvent, { type: "cancel" }>): Outcome {
  if (d.run.status !== "queued" && d.run.status !== "running") {
    return conflict(`run is already ${d.run.status}`);
  }
  cancelUnfinished(d, "cancelled", event.reason ?? null);
  return null;
}

/** Ends the run now: every unfinished instance is cancelled (its late results are then stale). */
export function cancelUnfinished(d: Draft, status: FinishedRunStatus, error: string | null): void {
  for (const { task, index, instance } of [...d.all()]) {
    if (!isTerminal(instance.status)) settle(d, task, index, { status: "cancelled" });
  }
  d.setRun({ status, ended_at: d.now, error });
  d.emit({ type: "run_finished", status });
}

/**
 * Airflow's "clear": the task and, by default, its downstream go back to one pending placeholder each,
 * with a new generation. Downstream instances still in flight (say, an `always` task) are cleared too;
 * their late results no longer match and are ignored.
 */
export function onRetryTask(d: Draft, event: Extract<RunEvent, { type: "retry_task" }>): Outcome {
  const refused = refuseManual(d, event.task, "retry");
  if (refused) return refused;
  const busy = d.instances(event.task).find((i) => !isTerminal(i.status));
  if (busy) return conflict(`task "${event.task}" is ${busy.status}: only a finished task can be retried`);
  const cleared = event.downstream === false ? [] : downstreamOf(d.plan, event.task);
  for (const task of [event.task, ...cleared]) {
    // A new generation gives every instance a new idempotency key: the plugin must not dedupe this run.
    const generation = d.taskState(task).generation + 1;
    d.replaceInstances(task, [placeholder()], { generation, items_ref: null });
  }
  reopen(d);
  return null;
}

/**
 * Sets every instance of the task to the status, even a running one (its late result is then stale).
 * Downstream decisions that were only propagated (upstream_failed, skipped by trigger rule) are
 * re-evaluated, so marking a failed task successful lets the DAG continue.
 */
export function onMark(d: Draft, event: Extract<RunEvent, { type: "mark" }>): Outcome {
  const refused = refuseManual(d, event.task, "mark");
  if (refused) return refused;
  const { task, status } = event;
  if (d.instances(task).every((i) => i.status === status)) return `already ${status}`;
  for (const [index, instance] of d.instances(task).entries()) {
    if (instance.status === status) continue;
    if (status === "success") settle(d, task, index, { status, output_ref: null });
    else settle(d, task, index, { status, error: taskError("marked_failed", "marked failed") });
  }
  for (const below of downstreamOf(d.plan, task)) {
    if (d.instances(below).every(propagated)) d.replaceInstances(below, [placeholder()]);
  }
  reopen(d);
  return null;
}

function refuseManual(d: Draft, task: string, action: string): Conflict | null {
  if (!d.hasTask(task)) return conflict(`unknown task "${task}"`);
  if (d.run.status === "queued") return conflict(`cannot ${action} a task: the run has not started`);
  if (d.run.status === "cancelled") return conflict(`cannot ${action} a task: the run was cancelled`);
  return null;
}

/** A finished run with work to do again runs again, with a fresh run timeout. */
function reopen(d: Draft): void {
  if (d.run.status === "running") return;
  if ([...d.all()].every(({ instance }) => isTerminal(instance.status))) return;
  d.setRun({ status: "running", ended_at: null, error: null, deadline_at: deadline(d) });
}

function propagated(instance: TaskInstance): boolean {
  return (
    instance.status === "upstream_failed" ||
    (instance.status === "skipped" && instance.reason === "trigger_rule")
  );
}

function deadline(d: Draft): number | null {
  return d.plan.timeout_ms === null ? null : d.now + d.plan.timeout_ms;
}

function conflict(detail: string): Conflict {
  return { rejected: "conflict", detail };
}

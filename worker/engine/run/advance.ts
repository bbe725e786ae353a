/**
 * After every event: settle what the trigger rules decide, dispatch what is ready within the slots,
 * and finish the run once nothing is left to do. One topological pass suffices, because a verdict only
 * depends on upstream tasks, which the pass has already settled.
 */
import type { Draft } from "./draft";
import { openGates, settle } from "./gates";
import { taskKey } from "./keys";
import { plannedTask } from "./plan";
import { commonOf, type FinishedRunStatus, holdsSlot, isTerminal, type TaskInstance } from "./state";
import { countUpstream, evaluateTriggerRule } from "./trigger-rules";

export function advance(d: Draft, capacity: number): void {
  if (d.run.status !== "running") return;
  for (const task of d.plan.order) applyTriggerRule(d, task);
  dispatchReady(d, capacity);
  finishIfDone(d);
}

function applyTriggerRule(d: Draft, task: string): void {
  const [placeholder, ...rest] = d.instances(task);
  if (placeholder?.status !== "pending" || placeholder.gate !== "upstream" || rest.length > 0) return;
  const planned = plannedTask(d.plan, task);
  const upstream = planned.needs.flatMap((need) => d.instances(need).map((i) => i.status));
  const verdict = evaluateTriggerRule(planned.rule, countUpstream(upstream));
  switch (verdict) {
    case "wait":
      return;
    case "run":
      openGates(d, task);
      return;
    case "skip":
      settle(d, task, 0, { status: "skipped", reason: "trigger_rule" });
      return;
    case "upstream_failed":
      settle(d, task, 0, { status: "upstream_failed" });
      return;
    default: {
      const never: never = verdict;
      throw new Error(`unknown verdict ${String(never)}`);
    }
  }
}

/**
 * Fills free slots: first instances whose retry backoff or sensor poke interval is over (they started
 * earlier), then fresh ones, upstream tasks first and map indexes in order.
 */
function dispatchReady(d: Draft, capacity: number): void {
  let free = capacity - activeIn(d);
  if (free <= 0) return;
  for (const pass of ["due", "fresh"] as const) {
    for (const { task, index, instance } of d.all()) {
      if (free <= 0) return;
      if (pass === "due" ? !isDue(instance, d.now) : !isReady(instance)) continue;
      dispatch(d, task, index, instance);
      free--;
    }
  }
}

function dispatch(d: Draft, task: string, index: number, instance: TaskInstance): void {
  const planned = plannedTask(d.plan, task);
  // A sensor's re-poke continues its attempt; everything else starts a new one.
  const attempt = instance.status === "waiting" ? instance.attempt : instance.attempt + 1;
  const dispatch = d.run.dispatches + 1;
  const deadline_at = planned.timeout_ms === null ? null : d.now + planned.timeout_ms;
  const started_at = instance.status === "waiting" ? instance.started_at : d.now;
  d.setRun({ dispatches: dispatch });
  d.setInstance(task, index, {
    ...commonOf(instance),
    status: "scheduled",
    attempt,
    dispatch,
    started_at,
    deadline_at,
  });
  const { map_index } = instance;
  const generation = d.taskState(task).generation;
  const key = taskKey(task, map_index);
  d.emit({ type: "dispatch", key, task, map_index, attempt, generation, dispatch, deadline_at });
}

function isReady(instance: TaskInstance): boolean {
  return instance.status === "pending" && instance.gate === "ready";
}

function isDue(instance: TaskInstance, now: number): boolean {
  return (instance.status === "waiting" || instance.status === "up_for_retry") && instance.due_at <= now;
}

function activeIn(d: Draft): number {
  let active = 0;
  for (const { instance } of d.all()) if (holdsSlot(instance.status)) active++;
  return active;
}

/**
 * Success when every instance is terminal and none failed, was upstream_failed or cancelled. Stricter
 * than Airflow's leaf rule on purpose: a failure handled by a one_failed task still fails the run, so
 * a failure is never hidden from the run list (the handler still runs).
 */
export function finishIfDone(d: Draft): void {
  const status = outcome(d);
  if (status === null || status === d.run.status) return;
  if (d.run.status !== "running" && d.run.status !== "success" && d.run.status !== "failed") return;
  d.setRun({ status, ended_at: d.now, error: status === "success" ? null : d.run.error });
  d.emit({ type: "run_finished", status });
}

function outcome(d: Draft): Exclude<FinishedRunStatus, "cancelled"> | null {
  let failed = false;
  for (const { instance } of d.all()) {
    if (!isTerminal(instance.status)) return null;
    if (instance.status === "failed" || instance.status === "upstream_failed") failed = true;
    if (instance.status === "cancelled") failed = true;
  }
  return failed ? "failed" : "success";
}

/**
 * Read-only questions the DO asks about a run's state, mostly to share max_active_tasks between runs:
 * after a step frees slots, the DO ticks the oldest runs that have work blocked on slots.
 */
import { taskKey } from "./keys";
import { holdsSlot, type RunState, type TaskInstance } from "./state";

export type InstanceView = { key: string; task: string; instance: TaskInstance };

export function* instancesOf(state: RunState): Generator<InstanceView> {
  for (const [task, { instances }] of Object.entries(state.tasks)) {
    for (const instance of instances) yield { key: taskKey(task, instance.map_index), task, instance };
  }
}

/** Instances holding a slot (scheduled + running). */
export function activeCount(state: RunState): number {
  let active = 0;
  for (const { instance } of instancesOf(state)) if (holdsSlot(instance.status)) active++;
  return active;
}

/** Instances that would be dispatched now if a slot were free. */
export function blockedOnSlots(state: RunState, now: number): number {
  if (state.status !== "running") return 0;
  let blocked = 0;
  for (const { instance } of instancesOf(state)) {
    const ready = instance.status === "pending" && instance.gate === "ready";
    const due =
      (instance.status === "waiting" || instance.status === "up_for_retry") && instance.due_at <= now;
    if (ready || due) blocked++;
  }
  return blocked;
}

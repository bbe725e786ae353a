/**
 * Redelivery: the object that dispatched some calls died before they were answered (a crash, a deploy,
 * an eviction), so nothing will ever answer them. Each dispatched, unanswered instance is sent again as
 * the same invocation: same dispatch number, attempt and idempotency key. The lost time was ours, not
 * the plugin's, so its deadline starts over. Calls a plugin accepted with 202 finish through their
 * callback and are left alone.
 */
import type { Draft } from "./draft";
import { taskKey } from "./keys";
import { plannedTask } from "./plan";

export function onRedeliver(d: Draft): string | null {
  if (d.run.status !== "running") return `run is ${d.run.status}`;
  let sent = 0;
  for (const { task, index, instance } of d.all()) {
    if (instance.status !== "scheduled") continue;
    const { timeout_ms } = plannedTask(d.plan, task);
    const deadline_at = timeout_ms === null ? null : d.now + timeout_ms;
    d.setInstance(task, index, { ...instance, deadline_at });
    const { map_index, attempt, dispatch } = instance;
    const { generation } = d.taskState(task);
    const key = taskKey(task, map_index);
    d.emit({
      type: "dispatch",
      key,
      task,
      map_index,
      attempt,
      generation,
      dispatch,
      deadline_at,
      redelivery: true,
    });
    sent++;
  }
  return sent === 0 ? "nothing was in flight" : null;
}

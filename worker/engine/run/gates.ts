/**
 * The way from "trigger rule met" to "ready to dispatch": the task-level `when`, then `for_each`
 * expansion, then a per-instance `when` if it reads `item`. Expressions are evaluated by the DO
 * (JSONata is async); each gate emits an `evaluate` effect and waits for the answering event.
 */
import { type TaskError, taskError } from "../task-error";
import type { Draft } from "./draft";
import { MAX_FOR_EACH_ITEMS, plannedTask } from "./plan";
import { commonOf, type PendingGate, type SkipReason, type TaskInstance } from "./state";

/** The trigger rule of `task` (still one pending placeholder) has just been met. */
export function openGates(d: Draft, task: string): void {
  if (plannedTask(d.plan, task).when === "task") holdForEvaluation(d, task, 0, "when");
  else afterWhen(d, task);
}

/** The task-level `when` (if any) passed: expand, or become ready. */
export function afterWhen(d: Draft, task: string): void {
  const forEach = plannedTask(d.plan, task).for_each;
  switch (forEach.kind) {
    case "none":
      setGate(d, task, 0, "ready");
      return;
    case "literal":
      expand(d, task, forEach.items, null);
      return;
    case "expression":
      holdForEvaluation(d, task, 0, "for_each");
      return;
    default: {
      const never: never = forEach;
      throw new Error(`unknown for_each ${JSON.stringify(never)}`);
    }
  }
}

/** Replaces the placeholder with `items` instances; none skips the task, too many fails it. */
export function expand(d: Draft, task: string, items: number, itemsRef: string | null): void {
  const [placeholder] = d.instances(task);
  if (!placeholder) return;
  if (items === 0) {
    settle(d, task, 0, { status: "skipped", reason: "no_items" });
    return;
  }
  if (items > MAX_FOR_EACH_ITEMS) {
    const message = `for_each produced ${items} items; a task maps over at most ${MAX_FOR_EACH_ITEMS}`;
    settle(d, task, 0, { status: "failed", error: taskError("expression_error", message) });
    return;
  }
  const perItemWhen = plannedTask(d.plan, task).when === "item";
  const gate: PendingGate = perItemWhen ? "when" : "ready";
  const instances = Array.from({ length: items }, (_, map_index): TaskInstance => {
    return { ...commonOf(placeholder), map_index, status: "pending", gate };
  });
  d.replaceInstances(task, instances, { items_ref: itemsRef });
  if (perItemWhen) {
    for (const { map_index } of instances) d.emit({ type: "evaluate", task, kind: "when", map_index });
  }
}

/** Ends an instance without running it. */
export function settle(
  d: Draft,
  task: string,
  index: number,
  end:
    | { status: "skipped"; reason: SkipReason }
    | { status: "failed"; error: TaskError }
    | { status: "success"; output_ref: null }
    | { status: "upstream_failed" | "cancelled" },
): void {
  const instance = d.instances(task)[index];
  if (!instance) return;
  d.setInstance(task, index, { ...commonOf(instance), ended_at: d.now, ...end });
}

function holdForEvaluation(d: Draft, task: string, index: number, kind: "when" | "for_each"): void {
  setGate(d, task, index, kind);
  const instance = d.instances(task)[index];
  d.emit({ type: "evaluate", task, kind, map_index: instance?.map_index ?? -1 });
}

export function setGate(d: Draft, task: string, index: number, gate: PendingGate): void {
  const instance = d.instances(task)[index];
  if (!instance) return;
  d.setInstance(task, index, { ...commonOf(instance), status: "pending", gate });
}

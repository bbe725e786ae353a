/** The DO's answers to `evaluate` effects. An answer for a gate that is no longer open is stale. */
import { taskError } from "../task-error";
import type { Draft } from "./draft";
import type { RunEvent } from "./events";
import { afterWhen, expand, setGate, settle } from "./gates";
import { plannedTask } from "./plan";
import type { Handled } from "./results";

type Rejection = { rejected: "invalid"; detail: string };

export function onWhenEvaluated(d: Draft, event: Extract<RunEvent, { type: "when_evaluated" }>): Handled {
  const index = gateIndex(d, event.task, event.map_index ?? -1, "when");
  if (index === null) return `no pending when for ${event.task}`;
  if (!event.value) settle(d, event.task, index, { status: "skipped", reason: "when" });
  else if ((event.map_index ?? -1) < 0 && plannedTask(d.plan, event.task).for_each.kind !== "none") {
    afterWhen(d, event.task);
  } else setGate(d, event.task, index, "ready");
  return null;
}

export function onForEachExpanded(
  d: Draft,
  event: Extract<RunEvent, { type: "for_each_expanded" }>,
): Handled | Rejection {
  if (!Number.isSafeInteger(event.items) || event.items < 0) {
    return { rejected: "invalid", detail: `for_each items must be a count, got ${String(event.items)}` };
  }
  if (gateIndex(d, event.task, -1, "for_each") === null) return `no pending for_each for ${event.task}`;
  expand(d, event.task, event.items, event.items_ref ?? null);
  return null;
}

export function onEvaluationFailed(
  d: Draft,
  event: Extract<RunEvent, { type: "evaluation_failed" }>,
): Handled {
  const index = gateIndex(d, event.task, event.map_index ?? -1, event.kind);
  if (index === null) return `no pending ${event.kind} for ${event.task}`;
  const error = taskError(event.error_kind ?? "expression_error", `${event.kind} failed: ${event.error}`);
  settle(d, event.task, index, { status: "failed", error });
  return null;
}

/** Where the instance waiting on this evaluation sits, or null when none does (any more). */
function gateIndex(d: Draft, task: string, mapIndex: number, gate: "when" | "for_each"): number | null {
  if (!d.hasTask(task)) return null;
  const index = d.instances(task).findIndex((i) => i.map_index === mapIndex);
  const instance = d.instances(task)[index];
  return instance?.status === "pending" && instance.gate === gate ? index : null;
}

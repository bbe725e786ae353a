/** Answers the planner's `evaluate` effects: a task's `when`, or its `for_each` list (stored by reference). */
import { MAX_FOR_EACH_ITEMS, type RunEvent } from "../engine";
import { renderString, truthy } from "../engine/render";
import { type Deps, messageOf } from "./dispatch";
import { buildScope } from "./scope";
import type { Attachments, EvaluateJob } from "./transition";

/** The items are stored with the run (by reference) and read back for every instance. */
export const MAX_FOR_EACH_BYTES = 1024 * 1024;

export async function evaluateGate(
  deps: Omit<Deps, "identity" | "env">,
  job: EvaluateJob,
): Promise<{ event: RunEvent; attach: Attachments } | null> {
  const stored = deps.store.run(job.run);
  if (!stored) return null;
  const task = deps.plans.task(job.version, job.task);
  const scope = buildScope(deps.store, deps.plans.plan(job.version), stored.state, task, job.map_index);
  const mapIndex = job.map_index < 0 ? {} : { map_index: job.map_index };
  const failed = (error: string): { event: RunEvent; attach: Attachments } => ({
    event: { type: "evaluation_failed", task: job.task, kind: job.kind, ...mapIndex, error },
    attach: {},
  });
  const source = job.kind === "when" ? task.when : task.for_each;
  if (typeof source !== "string") return failed(`${job.kind} is not an expression`);
  let value: unknown;
  try {
    value = await renderString(source, scope);
  } catch (error) {
    return failed(messageOf(error));
  }
  if (job.kind === "when") {
    return {
      event: { type: "when_evaluated", task: job.task, ...mapIndex, value: truthy(value) },
      attach: {},
    };
  }
  if (value === null) value = [];
  if (!Array.isArray(value)) return failed(`for_each must give a list, got ${typeof value}`);
  // Checked before the list is stored, not only by the planner after: a list far over the limit must
  // never reach the object's storage.
  if (value.length > MAX_FOR_EACH_ITEMS) {
    return failed(`for_each produced ${value.length} items; a task maps over at most ${MAX_FOR_EACH_ITEMS}`);
  }
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > MAX_FOR_EACH_BYTES) {
    return failed(`for_each gave a list of ${bytes} bytes; at most ${MAX_FOR_EACH_BYTES} are kept`);
  }
  const generation = stored.state.tasks[job.task]?.generation ?? 0;
  const ref = `items:${job.run}:${job.task}:${generation}`;
  return {
    event: { type: "for_each_expanded", task: job.task, items: value.length, items_ref: ref },
    attach: { blobs: [{ ref, value }] },
  };
}

/**
 * A validated spec compiled into what the planner consults on every event: topological order, edges both
 * ways, resolved trigger rules, retry policies and timeouts in milliseconds. Compile once per pipeline
 * version (the DO keeps it in memory); runs pin their version, so one plan serves all of its runs.
 */
import { parseDuration } from "../duration";
import { analyzeExpression } from "../expression";
import type { TriggerRule } from "../spec/fields";
import type { PipelineSpec } from "../spec/pipeline";
import { MAX_FOR_EACH_ITEMS, type Task } from "../spec/task";
import { parseTemplate } from "../template";
import { type RetryPolicy, retryPolicy } from "./retry";

export { MAX_FOR_EACH_ITEMS };

export type PlannedTask = {
  id: string;
  needs: readonly string[];
  /** Direct downstream tasks, in topological order. */
  downstream: readonly string[];
  rule: TriggerRule;
  retry: RetryPolicy;
  /** Per attempt (per dispatch, for sensors); null: none. */
  timeout_ms: number | null;
  /** "item": `when` reads `item`, so it is evaluated per mapped instance after expansion. */
  when: "none" | "task" | "item";
  for_each: { kind: "none" } | { kind: "literal"; items: number } | { kind: "expression" };
};

export type RunPlan = {
  /** Task ids, upstream before downstream; ties keep spec order. */
  order: readonly string[];
  tasks: ReadonlyMap<string, PlannedTask>;
  /** Run timeout, measured from start (and again from a manual retry that reopens the run). */
  timeout_ms: number | null;
  /** The spec's per-pipeline cap, applied per run here; see StepContext.capacity for across runs. */
  max_active_tasks: number | null;
};

export type PlanOptions = {
  /** Operator default timeouts (from manifests), by task id, for tasks the spec gives no timeout. */
  operatorTimeoutsMs?: Readonly<Record<string, number>>;
};

/** Throws only on a spec that did not pass validatePipelineSpec (a cycle or an unknown need). */
export function compilePlan(spec: PipelineSpec, options: PlanOptions = {}): RunPlan {
  const defaults = spec.defaults ?? {};
  const order = topologicalOrder(spec.tasks);
  const downstream = new Map<string, string[]>(order.map((id) => [id, []]));
  const position = new Map(order.map((id, i) => [id, i]));
  for (const task of spec.tasks) for (const need of task.needs) downstream.get(need)?.push(task.id);
  for (const list of downstream.values())
    list.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  const tasks = new Map<string, PlannedTask>();
  for (const task of spec.tasks) {
    const timeout = task.timeout ?? defaults.timeout;
    tasks.set(task.id, {
      id: task.id,
      needs: task.needs,
      downstream: downstream.get(task.id) ?? [],
      rule: task.trigger_rule ?? defaults.trigger_rule ?? "all_success",
      retry: retryPolicy(task, defaults),
      timeout_ms: (timeout && parseDuration(timeout)) || options.operatorTimeoutsMs?.[task.id] || null,
      when: whenKind(task),
      for_each: forEachKind(task),
    });
  }
  const timeout = spec.timeout === undefined ? null : parseDuration(spec.timeout);
  return { order, tasks, timeout_ms: timeout, max_active_tasks: spec.concurrency?.max_active_tasks ?? null };
}

/** The planned task for an id the caller has already checked; a miss is a programming error. */
export function plannedTask(plan: RunPlan, id: string): PlannedTask {
  const task = plan.tasks.get(id);
  if (!task) throw new Error(`the plan has no task "${id}"`);
  return task;
}

/** Every task downstream of `id` (not `id` itself), in topological order. */
export function downstreamOf(plan: RunPlan, id: string): string[] {
  const reached = new Set<string>();
  const queue = [id];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of plan.tasks.get(next)?.downstream ?? []) {
      if (reached.has(child)) continue;
      reached.add(child);
      queue.push(child);
    }
  }
  return plan.order.filter((t) => reached.has(t));
}

function whenKind(task: Task): PlannedTask["when"] {
  if (task.when === undefined) return "none";
  const template = parseTemplate(task.when);
  if (task.for_each === undefined || template.kind !== "expression") return "task";
  const analysis = analyzeExpression(template.expr);
  return analysis.ok && analysis.roots.some((root) => root.name === "item") ? "item" : "task";
}

function forEachKind(task: Task): PlannedTask["for_each"] {
  if (task.for_each === undefined) return { kind: "none" };
  return typeof task.for_each === "string"
    ? { kind: "expression" }
    : { kind: "literal", items: task.for_each.length };
}

/** Kahn's algorithm, always taking the earliest ready task in spec order, so the order is stable. */
function topologicalOrder(tasks: readonly Task[]): string[] {
  const remaining = new Map(tasks.map((t) => [t.id, new Set(t.needs)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const next = tasks.find((t) => remaining.get(t.id)?.size === 0);
    if (!next) throw new Error("the spec's tasks form a cycle or need unknown tasks: validate it first");
    remaining.delete(next.id);
    order.push(next.id);
    for (const needs of remaining.values()) needs.delete(next.id);
  }
  return order;
}

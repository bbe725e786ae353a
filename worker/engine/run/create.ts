/** A new run: queued, one pending instance per task (a placeholder at map_index -1 for mapped ones). */
import type { RunPlan } from "./plan";
import { placeholder, RUN_STATE_VERSION, type RunState, type TaskState } from "./state";

export type NewRun = {
  /** Chosen by the DO: the planner makes no ids. */
  id: string;
  now: number;
  /** Resolved run params (defaults applied, validated against the spec's params by the caller). */
  params?: RunState["params"];
  /** Where the DO stored the trigger payload (webhook body, headers, query), if any. */
  trigger_ref?: string | null;
  /** ISO 8601 logical date for scheduled and backfilled runs. */
  logical_date?: string | null;
};

/**
 * The initial state; the run does nothing until the DO sends `start` (when max_active_runs allows).
 * @example createRun(compilePlan(spec), { id: "run_01", now: Date.parse("2026-11-24T09:00:00Z") })
 */
export function createRun(plan: RunPlan, input: NewRun): RunState {
  const tasks: Record<string, TaskState> = {};
  for (const task of plan.order) tasks[task] = { generation: 0, items_ref: null, instances: [placeholder()] };
  return {
    v: RUN_STATE_VERSION,
    id: input.id,
    status: "queued",
    params: input.params ?? {},
    trigger_ref: input.trigger_ref ?? null,
    logical_date: input.logical_date ?? null,
    created_at: input.now,
    started_at: null,
    ended_at: null,
    deadline_at: null,
    error: null,
    dispatches: 0,
    tasks,
  };
}

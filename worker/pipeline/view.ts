/** The run detail the API shows: state plus outputs read back from the blob table. */
import { instanceError, type RunPlan, type RunState, type TaskInstance } from "../engine";
import type { Driver } from "./driver";
import { summaryOf } from "./store";
import { iso, type RunDetail, type TaskView } from "./types";

export function runDetail(driver: Driver, id: string): RunDetail | null {
  const stored = driver.store.run(id);
  if (!stored) return null;
  const { state } = stored;
  const refs: string[] = [];
  if (state.trigger_ref) refs.push(state.trigger_ref);
  for (const task of Object.values(state.tasks)) {
    for (const i of task.instances) if (i.status === "success" && i.output_ref) refs.push(i.output_ref);
  }
  const values = driver.store.blobs(refs);
  const plan = driver.plans.plan(stored.version);
  const tasks: TaskView[] = plan.order.flatMap((task) =>
    (state.tasks[task]?.instances ?? []).map((i) => taskView(plan, state, task, i, values)),
  );
  return {
    ...summaryOf({
      id,
      status: state.status,
      trigger_kind: stored.trigger,
      version: stored.version,
      created_at: state.created_at,
      started_at: state.started_at,
      ended_at: state.ended_at,
      logical_date: state.logical_date,
    }),
    params: state.params,
    trigger_payload: state.trigger_ref ? (values.get(state.trigger_ref) ?? null) : null,
    error: state.error,
    tasks,
  };
}

function taskView(
  plan: RunPlan,
  state: RunState,
  id: string,
  i: TaskInstance,
  values: Map<string, unknown>,
): TaskView {
  const output = i.status === "success" && i.output_ref ? (values.get(i.output_ref) ?? null) : null;
  return {
    id,
    map_index: i.map_index,
    status: i.status,
    attempts: i.attempt,
    started_at: iso(i.started_at),
    ended_at: iso(i.ended_at),
    output,
    error: instanceError(plan, state, id, i),
  };
}

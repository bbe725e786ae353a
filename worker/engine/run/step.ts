/**
 * The run planner: `(state, event, now) → { state, effects }`, pure and synchronous. The PipelineDO
 * persists the returned state in one write, then performs the effects; it never edits the state itself.
 */
import { advance, finishIfDone } from "./advance";
import { Draft } from "./draft";
import { onEvaluationFailed, onForEachExpanded, onWhenEvaluated } from "./evaluations";
import type { Effect, RunEvent, StepContext, StepResult } from "./events";
import { onCancel, onMark, onRetryTask, onStart } from "./manual";
import type { RunPlan } from "./plan";
import { onRedeliver } from "./redeliver";
import { onTaskResult, onTimer } from "./results";
import type { RunState } from "./state";

type Handled = string | null | { rejected: "conflict" | "invalid"; detail: string };

/**
 * Applies one event.
 * @example
 * const plan = compilePlan(spec);
 * let state = createRun(plan, { id: "r1", now });
 * const result = step(plan, state, { type: "start" }, { now });
 * if (result.kind === "applied") { state = result.state; await persist(state); perform(result.effects); }
 */
export function step(plan: RunPlan, state: RunState, event: RunEvent, context: StepContext): StepResult {
  const d = new Draft(plan, state, context.now);
  const handled = handle(d, event);
  if (typeof handled === "string") return { kind: "ignored", reason: handled };
  if (handled !== null) return { kind: "rejected", ...handled };
  advance(d, capacityOf(plan, context));
  // A mark can change a finished run's outcome without reopening it.
  finishIfDone(d);
  if (!d.changed && d.effects.length === 0) return { kind: "ignored", reason: "nothing to do" };
  return { kind: "applied", state: d.result(), effects: d.effects };
}

/**
 * Applies events in order, for a DO that folds a batch (say, many plugin results) into one write.
 * Ignored and rejected events change nothing and are reported with their position in `events`.
 */
export function stepAll(
  plan: RunPlan,
  state: RunState,
  events: readonly RunEvent[],
  context: StepContext,
): { state: RunState; effects: Effect[]; skipped: Array<{ index: number; result: NotApplied }> } {
  let current = state;
  const effects: Effect[] = [];
  const skipped: Array<{ index: number; result: NotApplied }> = [];
  for (const [index, event] of events.entries()) {
    const result = step(plan, current, event, context);
    if (result.kind !== "applied") skipped.push({ index, result });
    else {
      current = result.state;
      effects.push(...result.effects);
    }
  }
  return { state: current, effects, skipped };
}

type NotApplied = Exclude<StepResult, { kind: "applied" }>;

function handle(d: Draft, event: RunEvent): Handled {
  switch (event.type) {
    case "start":
      return onStart(d);
    case "tick":
      return d.run.status === "running" ? null : `run is ${d.run.status}`;
    case "task_result":
      return onTaskResult(d, event);
    case "timer":
      return onTimer(d, event.timer);
    case "when_evaluated":
      return onWhenEvaluated(d, event);
    case "for_each_expanded":
      return onForEachExpanded(d, event);
    case "evaluation_failed":
      return onEvaluationFailed(d, event);
    case "retry_task":
      return onRetryTask(d, event);
    case "mark":
      return onMark(d, event);
    case "cancel":
      return onCancel(d, event);
    case "redeliver":
      return onRedeliver(d);
    default: {
      const never: never = event;
      return { rejected: "invalid", detail: `unknown event ${JSON.stringify(never)}` };
    }
  }
}

function capacityOf(plan: RunPlan, context: StepContext): number {
  return Math.min(
    context.capacity ?? Number.POSITIVE_INFINITY,
    plan.max_active_tasks ?? Number.POSITIVE_INFINITY,
  );
}

/**
 * Plugin results and due timers. Both are at-least-once and may be late, so each names the dispatch it
 * belongs to; anything that does not match the instance's current dispatch is stale and ignored.
 */
import { formatDuration } from "../duration";
import { type TaskError, taskError } from "../task-error";
import type { Draft, Located } from "./draft";
import type { RunEvent, TaskOutcome, TimerRef } from "./events";
import { cancelUnfinished } from "./manual";
import { plannedTask } from "./plan";
import { retryDelay } from "./retry";
import { commonOf, type InstanceOf } from "./state";

/** Returns why the event was ignored, or null when it was applied. */
export type Handled = string | null;

export function onTaskResult(d: Draft, event: Extract<RunEvent, { type: "task_result" }>): Handled {
  const found = d.find(event.key);
  if (!found) return `no instance "${event.key}"`;
  const current = dispatched(found, event.dispatch);
  if (!current || current.attempt !== event.attempt) {
    return `stale result for ${event.key} dispatch ${event.dispatch} (now ${found.instance.status})`;
  }
  return applyOutcome(d, found.task, found.index, current, event.outcome);
}

function applyOutcome(
  d: Draft,
  task: string,
  index: number,
  instance: InstanceOf<"scheduled" | "running">,
  outcome: TaskOutcome,
): Handled {
  const common = commonOf(instance);
  switch (outcome.status) {
    case "success":
      d.setInstance(task, index, {
        ...common,
        status: "success",
        output_ref: outcome.output_ref,
        ended_at: d.now,
      });
      return null;
    case "failure":
      fail(d, task, index, instance, outcome.error, outcome.retryable, outcome.retry_after_ms ?? 0);
      return null;
    case "running":
      if (instance.status === "running") return "already running";
      d.setInstance(task, index, { ...common, status: "running", deadline_at: instance.deadline_at });
      return null;
    case "waiting": {
      // A floor: a plugin that answers "poke again in 0 ms" must not turn a sensor into a busy loop.
      const due_at = d.now + Math.max(MIN_POKE_MS, outcome.retry_after_ms);
      d.setInstance(task, index, { ...common, status: "waiting", due_at });
      return null;
    }
    default: {
      const never: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(never)}`);
    }
  }
}

/** The shortest wait a plugin's Retry-After can ask for. */
const MIN_RETRY_AFTER_MS = 1_000;
/** The shortest interval between two pokes of a sensor. */
const MIN_POKE_MS = 250;

/** A retryable failure with attempts left backs off; anything else is final. */
function fail(
  d: Draft,
  task: string,
  index: number,
  instance: InstanceOf<"scheduled" | "running">,
  error: TaskError,
  retryable: boolean,
  retryAfterMs: number,
): void {
  const policy = plannedTask(d.plan, task).retry;
  const common = commonOf(instance);
  if (retryable && instance.attempt < 1 + policy.retries) {
    // The plugin's Retry-After is the service we call saying when to come back: it replaces our own
    // backoff (longer or shorter, past max_retry_delay), as Inngest's RetryAfterError and Temporal's
    // next retry delay do; a floor keeps a "retry after 0" from turning retries into a tight loop.
    const delay =
      retryAfterMs > 0 ? Math.max(retryAfterMs, MIN_RETRY_AFTER_MS) : retryDelay(policy, instance.attempt);
    d.setInstance(task, index, { ...common, status: "up_for_retry", due_at: d.now + delay, error });
  } else {
    d.setInstance(task, index, { ...common, status: "failed", error, ended_at: d.now });
  }
}

export function onTimer(d: Draft, timer: TimerRef): Handled {
  if (timer.reason === "run_timeout") {
    if (d.run.status !== "running" || d.run.deadline_at !== timer.at) return "stale run timeout";
    const after = d.plan.timeout_ms === null ? "" : ` after ${formatDuration(d.plan.timeout_ms)}`;
    cancelUnfinished(d, "failed", `run timed out${after}`);
    return null;
  }
  const found = d.find(timer.key);
  if (!found || found.instance.dispatch !== timer.dispatch) return `stale ${timer.reason} timer`;
  const { task, index, instance } = found;
  switch (timer.reason) {
    case "timeout": {
      const current = dispatched(found, timer.dispatch);
      if (!current) return "stale timeout timer";
      const timeout = plannedTask(d.plan, task).timeout_ms ?? 0;
      const error = taskError("timeout", `timed out after ${formatDuration(timeout)}`);
      fail(d, task, index, current, error, true, 0);
      return null;
    }
    case "poke":
    case "retry": {
      const waits = timer.reason === "poke" ? "waiting" : "up_for_retry";
      if (instance.status !== waits) return `stale ${timer.reason} timer`;
      // Early (the DO's clock disagrees with ours): put the row back rather than strand the instance.
      if (instance.due_at > d.now) d.rearm(task, index);
      // Otherwise nothing to record: advance() dispatches it when a slot is free, now or later.
      return null;
    }
    default: {
      const never: never = timer;
      throw new Error(`unknown timer ${JSON.stringify(never)}`);
    }
  }
}

function dispatched(found: Located, dispatch: number): InstanceOf<"scheduled" | "running"> | null {
  const { instance } = found;
  if (instance.status !== "scheduled" && instance.status !== "running") return null;
  return instance.dispatch === dispatch ? instance : null;
}

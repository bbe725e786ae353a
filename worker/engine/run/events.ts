/**
 * What goes into the planner (events, delivered by the PipelineDO) and what comes out (effects, performed
 * by the DO after it has persisted the new state). Events may arrive twice or late: alarms and plugin
 * callbacks are at-least-once, so every event names the dispatch or gate it answers and is ignored when
 * that has moved on.
 */
import type { TaskError } from "../task-error";
import type { FinishedRunStatus, RunState, RunStatus, TaskStatus } from "./state";

/** A plugin's answer to one dispatch (DESIGN.md §5), already mapped from HTTP by the runner. */
export type TaskOutcome =
  | { status: "success"; output_ref: string }
  /** 429/503 put their Retry-After into retry_after_ms; it wins when longer than our own backoff. */
  | { status: "failure"; error: TaskError; retryable: boolean; retry_after_ms?: number }
  /** 202: accepted, the final result comes through the callback. */
  | { status: "running" }
  /** A sensor that wants to be poked again later, without holding a slot meanwhile. */
  | { status: "waiting"; retry_after_ms: number };

/** Everything a due timer needs to be recognised as current or stale when it fires. */
export type TimerRef =
  | { reason: "timeout" | "poke" | "retry"; key: string; dispatch: number }
  | { reason: "run_timeout"; at: number };

export type RunEvent =
  /** queued → running; the DO sends it when max_active_runs allows. */
  | { type: "start" }
  /** Nothing happened to this run, but slots may have freed elsewhere in the pipeline: dispatch what fits. */
  | { type: "tick" }
  /** `attempt` and `dispatch` are copied from the dispatch effect the result answers. */
  | { type: "task_result"; key: string; attempt: number; dispatch: number; outcome: TaskOutcome }
  /** A set_timer effect came due; `timer` is the ref it carried. */
  | { type: "timer"; timer: TimerRef }
  /** map_index defaults to -1: the task-level `when`, or an unmapped task's. */
  | { type: "when_evaluated"; task: string; map_index?: number; value: boolean }
  | { type: "for_each_expanded"; task: string; items: number; items_ref?: string }
  /**
   * The expression threw or produced the wrong type (for_each must give a list): the task fails with an
   * expression_error; with error_kind platform_error, its answer could not be recorded (inbox.ts).
   */
  | {
      type: "evaluation_failed";
      task: string;
      kind: "when" | "for_each";
      map_index?: number;
      error: string;
      error_kind?: "expression_error" | "platform_error";
    }
  /** Manual retry (clear): the task and, unless downstream is false, everything downstream of it. */
  | { type: "retry_task"; task: string; downstream?: boolean }
  | { type: "mark"; task: string; status: "success" | "failed" }
  | { type: "cancel"; reason?: string }
  /** The DO restarted: send every dispatched, unanswered call again as the same invocation (redeliver.ts). */
  | { type: "redeliver" };

/** Live updates for dashboards (the pipeline's WebSocket). */
export type LiveEvent =
  | { type: "run"; run: string; status: RunStatus; at: number }
  | {
      type: "task";
      run: string;
      key: string;
      task: string;
      map_index: number;
      status: TaskStatus;
      attempt: number;
      at: number;
    }
  /** A manual retry replaced a mapped task's instances: drop this key from the view. */
  | { type: "task_removed"; run: string; key: string; at: number };

export type Effect =
  /**
   * Call the task's operator. The idempotency key is derived by the DO from (run id, task, map_index,
   * generation); the invocation id from (run id, dispatch). deadline_at goes to the plugin as `deadline`.
   */
  | {
      type: "dispatch";
      key: string;
      task: string;
      map_index: number;
      attempt: number;
      generation: number;
      dispatch: number;
      deadline_at: number | null;
      /** The same dispatch sent again after the object that made it died (redeliver.ts). */
      redelivery?: true;
    }
  /** Upsert the timer row `id`; deliver `{ type: "timer", timer }` once `at` has passed. */
  | { type: "set_timer"; id: string; at: number; timer: TimerRef }
  | { type: "clear_timer"; id: string }
  /** Evaluate the task's `when` (for one instance when it reads `item`) or `for_each`, answer with an event. */
  | { type: "evaluate"; task: string; kind: "when" | "for_each"; map_index: number }
  | { type: "run_finished"; status: FinishedRunStatus }
  | { type: "publish"; event: LiveEvent };

export type StepResult =
  /** Persist `state` (one write), then perform `effects` in order. */
  | { kind: "applied"; state: RunState; effects: Effect[] }
  /** Stale or duplicate: nothing changed, nothing to write. */
  | { kind: "ignored"; reason: string }
  /** The event is not allowed now (the API answers 409), or is malformed. Nothing changed. */
  | { kind: "rejected"; rejected: "conflict" | "invalid"; detail: string };

export type StepContext = {
  now: number;
  /**
   * How many instances of this run may hold a slot (scheduled + running) after this step. For a
   * pipeline-wide max_active_tasks the DO passes `max_active_tasks − (slots held by its other runs)`.
   * Omitted: only the spec's max_active_tasks applies, per run.
   */
  capacity?: number;
};

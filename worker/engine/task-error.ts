/**
 * Why a task instance did not succeed: a kind clients switch on, beside a message for people (the run
 * detail's task `error`, API.md). The one list of kinds: the runner and the PipelineDO set them where
 * each failure is made, the planner keeps them, contracts/ re-exports them to the API and the dashboard.
 * A leaf module (zod only), so every side of the API can import it.
 */
import { z } from "zod";

export const TASK_ERROR_KINDS = [
  /** The task's timeout, or an invocation's deadline, passed without an answer. */
  "timeout",
  /** The plugin answered a failure (including a back-off it asked for that outlasted the retries). */
  "plugin_error",
  /** An answer that is not protocol v1: bad JSON, a wrong shape, an unexpected status, no such operator. */
  "protocol_error",
  /** The plugin could not be reached: a refused connection, or a gateway answering in its place. */
  "unreachable",
  /** The call could not be made as specified: input or connection violating the plugin's schema, a secret that is not set, a plugin that is not installed. */
  "input_invalid",
  /** A `with`, `when` or `for_each` expression failed, or gave a value the task cannot use. */
  "expression_error",
  /** Updraft itself could not prepare the call (storage or decryption trouble); retried like a plugin's. */
  "platform_error",
  /** A person marked the task failed. */
  "marked_failed",
  /** The run was cancelled or timed out before the instance finished. */
  "cancelled",
  /** An upstream task failed, so the trigger rule settled this one without running it. */
  "upstream_failed",
  /** Recorded before errors had kinds (a run persisted by an older version). */
  "unknown",
] as const;

export const TaskErrorKind = z.enum(TASK_ERROR_KINDS);
export type TaskErrorKind = z.infer<typeof TaskErrorKind>;

export const TaskError = z.object({ kind: TaskErrorKind, message: z.string() });
export type TaskError = z.infer<typeof TaskError>;

/** @example taskError("timeout", "timed out after 30s") // { kind: "timeout", message: "timed out after 30s" } */
export function taskError(kind: TaskErrorKind, message: string): TaskError {
  return { kind, message };
}

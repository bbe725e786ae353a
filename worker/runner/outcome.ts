/**
 * What a plugin answered, mapped exhaustively onto what the engine understands. Anything that is not
 * a valid protocol answer — another status, a body that does not parse, a timeout, a refused
 * connection — becomes a retryable failure with a message that says what went wrong. Every failure
 * carries its kind (engine/task-error.ts), set here and in invoke.ts and batch.ts where it is made.
 */
import { DEADLINE_EXCEEDED, type LogEntry as PluginLog, PluginResult } from "@updraft/plugin-sdk/protocol";
import { type TaskError, type TaskErrorKind, taskError } from "../engine/task-error";

// The result's wire shape lives in the protocol module; pipeline/ reads callbacks with it through here.
export { type PluginLog, PluginResult };

export type Outcome =
  | { kind: "success"; output: unknown; logs: PluginLog[] }
  | { kind: "failure"; error: TaskError; retryable: boolean; retryAfterMs?: number; logs: PluginLog[] }
  | { kind: "running" }
  | { kind: "waiting"; retryAfterMs: number; logs: PluginLog[] };

export function toOutcome(result: PluginResult): Outcome {
  switch (result.status) {
    case "success":
      return { kind: "success", output: result.output ?? null, logs: result.logs ?? [] };
    case "failure":
      return {
        kind: "failure",
        error: taskError(failureKind(result), result.error),
        retryable: result.retryable,
        ...(result.retry_after_ms === undefined ? {} : { retryAfterMs: result.retry_after_ms }),
        logs: result.logs ?? [],
      };
    case "waiting":
      return { kind: "waiting", retryAfterMs: result.retry_after_ms, logs: result.logs ?? [] };
    case "running":
      return { kind: "running" };
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

/** What a plugin's own failure says it is: its deadline passed, its input was refused, or its work failed. */
function failureKind(result: Extract<PluginResult, { status: "failure" }>): TaskErrorKind {
  if (result.code === DEADLINE_EXCEEDED) return "timeout";
  if (result.issues !== undefined) return "input_invalid";
  return "plugin_error";
}

/** A failure made by the platform, not answered by a plugin: no logs. */
export function failure(kind: TaskErrorKind, message: string, retryable: boolean): Outcome {
  return { kind: "failure", error: taskError(kind, message), retryable, logs: [] };
}

export function retryableError(kind: TaskErrorKind, message: string, retryAfterMs?: number): Outcome {
  return {
    kind: "failure",
    error: taskError(kind, message),
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    logs: [],
  };
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

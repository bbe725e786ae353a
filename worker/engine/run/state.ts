/**
 * The persisted state of one run: what a PipelineDO stores (as JSON) and hands back to `step` on the next
 * event. Task outputs and the trigger payload are references, never values, so a run with 1,000 mapped
 * instances stays around 150 KB. Times are epoch milliseconds; the API renders them as ISO strings.
 */
import { z } from "zod";
import { TaskError } from "../task-error";

export const TASK_STATUSES = [
  "pending",
  "scheduled",
  "running",
  "waiting",
  "up_for_retry",
  "success",
  "failed",
  "skipped",
  "upstream_failed",
  "cancelled",
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const RUN_STATUSES = ["queued", "running", "success", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type FinishedRunStatus = Exclude<RunStatus, "queued" | "running">;

/**
 * Why a pending instance has not been dispatched yet: its trigger rule is not yet met ("upstream"), an
 * expression is being evaluated by the DO ("when", "for_each"), or it waits for a concurrency slot ("ready").
 */
export const PENDING_GATES = ["upstream", "when", "for_each", "ready"] as const;
export type PendingGate = (typeof PENDING_GATES)[number];

/** "trigger_rule" skips are propagated and get re-evaluated when an upstream is marked; the others are final. */
export const SKIP_REASONS = ["trigger_rule", "when", "no_items"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * The shape version of a persisted run. 2: task errors are `{kind, message}`. Version 1 rows (errors as
 * bare strings) still parse: their errors read as kind "unknown", as nobody recorded what they were.
 */
export const RUN_STATE_VERSION = 2;

const epochMs = z.int();
const taskError = z.union([
  TaskError,
  z.string().transform((message): TaskError => ({ kind: "unknown", message })),
]);
const common = {
  /** -1 for an unmapped task, and for a mapped task's placeholder before it is expanded (as in Airflow). */
  map_index: z.int().min(-1),
  /** Try number within the current generation, 1-based; 0 before the first dispatch. Sensor re-pokes keep it. */
  attempt: z.int().min(0),
  /** Run-wide sequence number of the instance's latest dispatch; results and timers must quote it. */
  dispatch: z.int().min(0),
  started_at: epochMs.nullable(),
  ended_at: epochMs.nullable(),
};

export const TaskInstanceSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("pending"), gate: z.enum(PENDING_GATES), ...common }),
  z.object({ status: z.literal("scheduled"), deadline_at: epochMs.nullable(), ...common }),
  z.object({ status: z.literal("running"), deadline_at: epochMs.nullable(), ...common }),
  z.object({ status: z.literal("waiting"), due_at: epochMs, ...common }),
  z.object({ status: z.literal("up_for_retry"), due_at: epochMs, error: taskError, ...common }),
  // null when a person marked the task successful: there is no output to point at.
  z.object({ status: z.literal("success"), output_ref: z.string().nullable(), ...common }),
  z.object({ status: z.literal("failed"), error: taskError, ...common }),
  z.object({ status: z.literal("skipped"), reason: z.enum(SKIP_REASONS), ...common }),
  z.object({ status: z.literal("upstream_failed"), ...common }),
  z.object({ status: z.literal("cancelled"), ...common }),
]);
export type TaskInstance = z.infer<typeof TaskInstanceSchema>;
export type InstanceOf<S extends TaskStatus> = Extract<TaskInstance, { status: S }>;

export const TaskStateSchema = z.object({
  /** Bumped by a manual retry; with run id, task and map index it derives the idempotency key. */
  generation: z.int().min(0),
  /** Where the DO keeps the evaluated for_each items, when it told us. */
  items_ref: z.string().nullable(),
  /** One placeholder (map_index -1), or the expanded instances in map_index order. */
  instances: z.array(TaskInstanceSchema).min(1),
});
export type TaskState = z.infer<typeof TaskStateSchema>;

export const RunStateSchema = z.object({
  v: z.literal([1, RUN_STATE_VERSION]).transform(() => RUN_STATE_VERSION),
  id: z.string(),
  status: z.enum(RUN_STATUSES),
  params: z.record(z.string(), z.json()),
  trigger_ref: z.string().nullable(),
  logical_date: z.string().nullable(),
  created_at: epochMs,
  started_at: epochMs.nullable(),
  ended_at: epochMs.nullable(),
  /** The run timeout's deadline while the run is running. */
  deadline_at: epochMs.nullable(),
  error: z.string().nullable(),
  /** Dispatches so far; the next one gets `dispatches + 1`. */
  dispatches: z.int().min(0),
  tasks: z.record(z.string(), TaskStateSchema),
});
/** Parse persisted JSON with `RunStateSchema.parse(JSON.parse(text))`. */
export type RunState = z.infer<typeof RunStateSchema>;

const TERMINAL: ReadonlySet<TaskStatus> = new Set([
  "success",
  "failed",
  "skipped",
  "upstream_failed",
  "cancelled",
]);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status);
}

/** Scheduled and running instances hold a concurrency slot; waiting sensors and retry backoffs do not. */
export function holdsSlot(status: TaskStatus): boolean {
  return status === "scheduled" || status === "running";
}

/** A task's one instance before it runs: map_index -1, waiting for its trigger rule. */
export function placeholder(): TaskInstance {
  const common = { map_index: -1, attempt: 0, dispatch: 0, started_at: null, ended_at: null };
  return { ...common, status: "pending", gate: "upstream" };
}

/** The fields every instance has, to build the next variant without carrying the old one's extras. */
export function commonOf(instance: TaskInstance) {
  const { map_index, attempt, dispatch, started_at, ended_at } = instance;
  return { map_index, attempt, dispatch, started_at, ended_at };
}

/**
 * The run planner: the pure core a PipelineDO drives. See step() for the loop, StepContext for sharing
 * max_active_tasks across runs, and events.ts for what goes in and comes out.
 */

export { createRun, type NewRun } from "./create";
export { instanceError } from "./errors";
export type { Effect, LiveEvent, RunEvent, StepContext, StepResult, TaskOutcome, TimerRef } from "./events";
export { instanceTimerId, parseTaskKey, RUN_TIMER_ID, taskKey } from "./keys";
export { compilePlan, downstreamOf, type PlannedTask, type PlanOptions, type RunPlan } from "./plan";
export { activeCount, blockedOnSlots, type InstanceView, instancesOf } from "./queries";
export {
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_RETRY_DELAY_MS,
  type RetryPolicy,
  retryDelay,
  retryPolicy,
} from "./retry";
export {
  type FinishedRunStatus,
  holdsSlot,
  isTerminal,
  PENDING_GATES,
  type PendingGate,
  RUN_STATE_VERSION,
  RUN_STATUSES,
  type RunState,
  RunStateSchema,
  type RunStatus,
  SKIP_REASONS,
  type SkipReason,
  TASK_STATUSES,
  type TaskInstance,
  type TaskState,
  type TaskStatus,
} from "./state";
export { step, stepAll } from "./step";
export { countUpstream, evaluateTriggerRule, type RuleVerdict, type UpstreamCounts } from "./trigger-rules";

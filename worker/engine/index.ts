/**
 * The pipeline engine's pure core: spec schema and validation, schedules, templates and expressions.
 * No I/O and no imports from the rest of worker/, so it runs the same in the API, in a PipelineDO and
 * in unit tests.
 */
export { canonicalJson } from "./canonical-json";
export { parseDuration } from "./duration";
export { analyzeExpression, type ExpressionAnalysis, type RootReference } from "./expression";
export * from "./run/index";
export { type CronSchedule, nextRuns } from "./schedule";
export { pipelineJsonSchema } from "./spec/editor-schema";
export { RETRY_BACKOFFS, TRIGGER_RULES, type TriggerRule } from "./spec/fields";
export type { Issue, PathSegment, SpecError } from "./spec/issue";
export { type PipelineSpec, PipelineSpecSchema } from "./spec/pipeline";
export { storedSchedule, storedSpec } from "./spec/stored";
export { MAX_FOR_EACH_ITEMS, parseUses, type Task } from "./spec/task";
export {
  secretReferenceName,
  type Trigger,
  WEBHOOK_SCHEMES,
  type WebhookTrigger,
  type WebhookVerify,
} from "./spec/trigger";
export {
  type ParsedSpec,
  parsePipelineSpec,
  type SpecFormat,
  sourceErrors,
  validatePipelineSpec,
} from "./spec/validate";
export { parseStored, StoredValueError } from "./stored-json";
export { TASK_ERROR_KINDS, type TaskError, type TaskErrorKind, taskError } from "./task-error";
export { parseTemplate, type Template, type TemplatePart, templateExpressions } from "./template";

/**
 * A saved pipeline version's spec and schedule, read back from D1 or a PipelineDO. They were written
 * as the output of PipelineSpecSchema (canonicalJson of a validated spec), so the same schema reads
 * them: it accepts everything the save path accepted and applies no default twice. The graph,
 * expression and plugin checks of a save are not repeated; callers that read a version often (the
 * PipelineDO's plans.ts) parse it once and keep it.
 */
import { parseStored } from "../stored-json";
import { type PipelineSpec, PipelineSpecSchema, Schedule } from "./pipeline";

/**
 * A stored version's spec; throws a StoredValueError naming the first problems when it is corrupt.
 * @example storedSpec(version.spec).tasks.length
 */
export function storedSpec(text: string): PipelineSpec {
  // A version saved before a save-time rule was tightened keeps running; a save of it must comply.
  return parseStored(PipelineSpecSchema, text, "pipeline spec", { policyChecks: "tolerate" });
}

/**
 * The latest version's schedule as the pipelines table keeps it (`pipelines.schedule`).
 * @example storedSchedule(row.schedule).cron // "0 9 * * 1-5"
 */
export function storedSchedule(text: string): Schedule {
  return parseStored(Schedule, text, "pipeline schedule", { policyChecks: "tolerate" });
}

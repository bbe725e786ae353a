/** What the runs routes share: run params checked against the spec, the pipeline's DO stub, audit rows. */
import { Validator } from "@cfworker/json-schema";
import { LIMITS } from "@updraft/plugin-sdk/expression";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { PipelineSpec } from "../engine";
import { pipelineStub } from "../pipeline/address";
import type { AuditRecord } from "../pipeline/audit";
import type { NotAdmitted } from "../pipeline/object";
import type { Changed } from "../pipeline/types";
import { type FieldError, ProblemError, problems } from "../problem";
import type { TenantScope } from "./access";
import { loadPipeline } from "./pipelines";

/**
 * Params with defaults applied, validated against each param's JSON Schema. A param without a default
 * is required; names the spec does not declare are refused (a typo would otherwise be ignored silently).
 */
export function resolveParams(spec: PipelineSpec, given: Record<string, unknown>): Record<string, unknown> {
  const declared = spec.params ?? {};
  const errors: FieldError[] = [];
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in declared))
      errors.push({ path: `params.${name}`, message: `the pipeline has no param "${name}"` });
  }
  for (const [name, schema] of Object.entries(declared)) {
    const value = name in given ? given[name] : (schema as { default?: unknown }).default;
    if (value === undefined) {
      errors.push({ path: `params.${name}`, message: "required: the param has no default" });
      continue;
    }
    const { pattern } = schema as { pattern?: unknown };
    if (typeof pattern === "string" && typeof value === "string" && value.length > LIMITS.regexSubject) {
      // The validator would run the tenant's pattern over it in this isolate.
      errors.push({ path: `params.${name}`, message: `longer than ${LIMITS.regexSubject} characters` });
      continue;
    }
    const result = new Validator(schema as object, "2020-12", false).validate(value);
    for (const e of result.errors) {
      const below = e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean);
      errors.push({ path: ["params", name, ...below].join("."), message: e.error });
    }
    out[name] = value;
  }
  if (errors.length > 0) throw problems.validation(errors, "The run params are not valid.");
  return out;
}

/** The pipeline's row and its PipelineDO stub; another tenant's or an unknown pipeline is a 404. */
export async function pipelineObject(c: Context<AppEnv>, scope: TenantScope, slug: string) {
  const pipeline = await loadPipeline(c, scope, slug);
  return { pipeline, stub: pipelineStub(c.env, scope.tenant.id, pipeline.id) };
}

/** Maps a DO answer to the value, or to the problem the API answers (the DO's detail says what is missing). */
export function changed<T>(result: Changed<T>): T {
  if (result.ok) return result.value;
  switch (result.error) {
    case "not_found":
      throw new ProblemError(404, "not_found", result.detail);
    case "conflict":
      throw problems.conflict(result.detail);
    case "invalid":
      throw problems.validation([{ path: "", message: result.detail }], result.detail);
  }
}

/** The audit entry of an action on a run, handed to the pipeline's object to write with the action. */
export function auditRecord(scope: TenantScope, action: string, target: string): AuditRecord {
  return { actor: scope.actor, action, target, ip: scope.ip };
}

/**
 * The 429 (or 503) for runs the tenant's ledger did not admit (DESIGN.md §6), with when to try again;
 * `runs` is how many the request asked for.
 */
export function notAdmitted(scope: TenantScope, answer: NotAdmitted, runs: number): ProblemError {
  if (answer.kind === "unavailable") {
    return problems.unavailable(
      "The tenant's run quotas cannot be checked right now; nothing was started. Try again in a moment.",
      5,
    );
  }
  const { refused } = answer;
  const plan = scope.tenant.plan;
  if (runs > refused.limit) {
    // Waiting would never help: the request alone is over the quota.
    const what = refused.quota === "runs_per_day" ? "runs in 24 hours" : "queued or running runs at once";
    return problems.validation(
      [{ path: "", message: `at most ${refused.limit} runs per request` }],
      `The request would create ${runs} runs; the ${plan} plan allows ${refused.limit} ${what}. Split it into smaller ranges.`,
    );
  }
  const asked = runs === 1 ? "" : `The request would create ${runs} runs, and ${refused.left} are left. `;
  const detail =
    refused.quota === "runs_per_day"
      ? `${asked}The ${plan} plan allows ${refused.limit} runs in 24 hours; the next one can start when the oldest of them is a day old.`
      : `${asked}The ${plan} plan allows ${refused.limit} queued or running runs at once; wait for some to finish.`;
  return problems.quotaExceeded(detail, refused.retry_after_s);
}

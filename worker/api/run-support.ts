/** What the runs routes share: run params checked against the spec, the pipeline's DO stub, audit rows. */
import { Validator } from "@cfworker/json-schema";
import type { Context } from "hono";
import { LIMITS } from "../../plugins/sdk/src/expression";
import type { AppEnv } from "../app-env";
import { quotasOf } from "../config";
import { db } from "../db/client";
import { RUN_WINDOW_MS, runUsage } from "../db/runs";
import type { PipelineSpec } from "../engine";
import { pipelineStub } from "../pipeline/address";
import type { AuditRecord } from "../pipeline/audit";
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

/** A full tenant's concurrent runs free up as runs finish: ask again soon. */
const ACTIVE_RETRY_SECONDS = 30;

/**
 * The tenant's run quotas (DESIGN.md §6): runs per rolling 24 hours, and runs queued or running at
 * once. Counted from the D1 summaries the PipelineDOs write behind, so a burst can overshoot by the
 * runs of the last moment. Returns the 429 to answer (with when to try again), or null; it does not
 * throw, so callers can run it beside their own lookups and decide which answer comes first.
 */
export async function runQuotaProblem(c: Context<AppEnv>, scope: TenantScope): Promise<ProblemError | null> {
  const quotas = quotasOf(c.env);
  const now = Date.now();
  const usage = await runUsage(db(c.env.DB), scope.tenant.id, now);
  const plan = scope.tenant.plan;
  if (usage.recent >= quotas.runs_per_day) {
    return problems.quotaExceeded(
      `The ${plan} plan allows ${quotas.runs_per_day} runs in 24 hours; the next one can start when the oldest of them is a day old.`,
      dailyRetryAfter(usage.oldest, now),
    );
  }
  if (usage.active >= quotas.concurrent_runs) {
    return problems.quotaExceeded(
      `The ${plan} plan allows ${quotas.concurrent_runs} queued or running runs at once; wait for some to finish.`,
      ACTIVE_RETRY_SECONDS,
    );
  }
  return null;
}

/**
 * A backfill creates its runs at once, so all of them must fit in what is left of the daily quota.
 * They queue behind the pipeline's max_active_runs instead of starting together, so the quota of runs
 * queued or running at once does not refuse them (they do count towards it while they wait).
 */
export async function backfillQuotaProblem(
  c: Context<AppEnv>,
  scope: TenantScope,
  runs: number,
): Promise<ProblemError | null> {
  const quotas = quotasOf(c.env);
  const now = Date.now();
  const usage = await runUsage(db(c.env.DB), scope.tenant.id, now);
  const left = Math.max(0, quotas.runs_per_day - usage.recent);
  if (runs <= left) return null;
  return problems.quotaExceeded(
    `The backfill would create ${runs} runs, and ${left} of the ${scope.tenant.plan} plan's ${quotas.runs_per_day} runs in 24 hours are left; backfill a shorter range or try again later.`,
    dailyRetryAfter(usage.oldest, now),
  );
}

/** Seconds until the oldest run of the rolling day leaves it (at least 1). */
function dailyRetryAfter(oldest: string | null, now: number): number {
  const frees = (oldest ? Date.parse(oldest) : now) + RUN_WINDOW_MS;
  return Math.max(1, Math.ceil((frees - now) / 1000));
}

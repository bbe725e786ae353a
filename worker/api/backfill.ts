/**
 * Backfill: runs for the logical dates of a pipeline's schedule in [from, to). The API computes the
 * dates (the same interval arithmetic as the object's clock); the PipelineDO decides, against the runs
 * it has per logical date, which ones `reprocess` asks for, and queues them behind max_active_runs.
 * A paused pipeline can be backfilled, as in Airflow: pausing stops the clock, not a person.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { quotasOf } from "../config";
import { BackfillBody, BackfillResult, BackfillRun } from "../contracts/api";
import { db } from "../db/client";
import { findVersion } from "../db/pipelines";
import { storedSpec } from "../engine";
import { firesBetween } from "../engine/intervals";
import type { Earlier } from "../pipeline/idempotency";
import { syncSchedule } from "../pipeline-sync/request";
import { problems } from "../problem";
import { authorize } from "./access";
import { earlierAnswer, IdempotencyKey, idempotencyClaim, REPLAYED } from "./idempotency";
import { errorResponses, json, jsonBody, newApi } from "./openapi";
import { auditRecord, notAdmitted, pipelineObject } from "./run-support";

/** The first answer of a backfill again (201, or 200 when it created nothing). */
function replayBackfill(c: Context<AppEnv>, earlier: Earlier) {
  const runs = earlierAnswer(earlier, z.array(BackfillRun));
  return c.json({ runs, dry_run: false }, runs.length > 0 ? 201 : 200, REPLAYED);
}

/** Logical dates one request may cover: beyond this, split the range. */
export const MAX_BACKFILL_INTERVALS = 1000;

export const backfillApi = newApi().openapi(
  createRoute({
    method: "post",
    path: "/{t}/pipelines/{p}/backfill",
    operationId: "backfillPipeline",
    tags: ["runs"],
    request: {
      params: z.object({ t: z.string(), p: z.string() }),
      headers: z.object({ "idempotency-key": IdempotencyKey.optional() }),
      ...jsonBody(BackfillBody),
    },
    responses: {
      200: json(BackfillResult, "A dry run (the runs it would create), or nothing to create"),
      201: json(BackfillResult, "The runs created, oldest logical date first"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { t, p } = c.req.valid("param");
    const body = c.req.valid("json");
    const scope = await authorize(c, t, "editor");
    const { pipeline, stub } = await pipelineObject(c, scope, p);
    const from = Date.parse(body.from);
    const to = Date.parse(body.to);
    if (!(from < to)) {
      throw problems.validation([{ path: "to", message: "must be after from" }], "The range is empty.");
    }
    const version = await findVersion(db(c.env.DB), pipeline.id, pipeline.latest_version);
    if (!version) throw problems.notFound("pipeline version");
    const spec = storedSpec(version.spec);
    if (!spec.schedule) {
      throw problems.validation(
        [{ path: "schedule", message: "the pipeline has no schedule" }],
        `The pipeline ${p} has no schedule, so it has no logical dates to backfill.`,
      );
    }
    const dates = firesBetween(spec.schedule, from, to, MAX_BACKFILL_INTERVALS);
    if (dates.length > MAX_BACKFILL_INTERVALS) {
      throw problems.validation(
        [{ path: "to", message: `the range holds more than ${MAX_BACKFILL_INTERVALS} logical dates` }],
        `Backfill at most ${MAX_BACKFILL_INTERVALS} logical dates per request; split the range.`,
      );
    }
    const dryRun = body.dry_run ?? false;
    const request = { version: version.version, schedule: spec.schedule, dates, reprocess: body.reprocess };
    // The object decides which dates get a run (reprocess) and asks the tenant's ledger for that many
    // places before it creates any. A key seen before answers as it did then, before any quota could
    // refuse it.
    const claim = dryRun
      ? undefined
      : await idempotencyClaim("backfill", c.req.valid("header")["idempotency-key"], body);
    const earlier = claim ? await stub.earlierAnswer(claim) : null;
    if (earlier) return replayBackfill(c, earlier);
    const planned = await stub.planBackfill({ ...request, dry_run: true });
    if (dryRun) return c.json({ runs: planned, dry_run: true }, 200);
    // The object runs the latest version; a save whose sync failed is caught up here first.
    const target = { id: pipeline.id, slug: p, paused: pipeline.paused === 1 };
    await syncSchedule(c, scope, target, { version: version.version, spec });
    const record = auditRecord(scope, "pipeline.backfill", `${p} ${body.from}..${body.to}`);
    const started = await stub.backfill({ ...request, dry_run: false }, quotasOf(c.env), record, claim);
    if (started.kind === "refused" || started.kind === "unavailable")
      throw notAdmitted(scope, started, planned.length);
    if (started.kind !== "created") return replayBackfill(c, started);
    const runs = started.answer;
    return c.json({ runs, dry_run: false }, runs.length > 0 ? 201 : 200);
  },
);

/**
 * Runs of a pipeline: start, list, inspect, cancel, and retry or mark a task. Every route authorizes
 * first, then talks to the pipeline's PipelineDO over RPC (never its internals).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { quotasOf } from "../config";
import {
  CreatedRun,
  CreateRunBody,
  MarkTaskBody,
  RetryTaskBody,
  RunDetail,
  RunListQuery,
  RunPage,
  RunState,
  TaskLogs,
} from "../contracts/api";
import { db } from "../db/client";
import { findPipelineWithSpec } from "../db/pipelines";
import { storedSpec } from "../engine";
import { publicOrigin } from "../origin";
import { pipelineStub } from "../pipeline/address";
import { problems } from "../problem";
import { authorize } from "./access";
import { IdempotencyKey, idempotencyClaim, replayRun } from "./idempotency";
import { errorResponses, json, jsonBody, newApi } from "./openapi";
import { auditRecord, changed, notAdmitted, pipelineObject, resolveParams } from "./run-support";

const PipelineParams = z.object({ t: z.string(), p: z.string() });
const RunParams = PipelineParams.extend({ r: z.string().max(100) });
const TaskParams = RunParams.extend({ task: z.string().max(100) });
const optionalBody = <T extends z.ZodType>(schema: T) =>
  ({ body: { required: false, content: { "application/json": { schema } } } }) as const;

function route<const R extends Parameters<typeof createRoute>[0]>(r: R) {
  return createRoute({ ...r, tags: ["runs"] });
}

export const runsApi = newApi()
  .openapi(
    route({
      method: "post",
      path: "/{t}/pipelines/{p}/runs",
      operationId: "createRun",
      request: {
        params: PipelineParams,
        headers: z.object({ "idempotency-key": IdempotencyKey.optional() }),
        ...optionalBody(CreateRunBody),
      },
      responses: { 201: json(CreatedRun, "The run, queued or already running"), ...errorResponses },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const scope = await authorize(c, t, "editor");
      const body = c.req.valid("json");
      const claim = await idempotencyClaim("runs", c.req.valid("header")["idempotency-key"], body);
      // One query for the pipeline and its latest spec: this is every run's latency.
      const pipeline = await findPipelineWithSpec(db(c.env.DB), scope.tenant.id, p);
      if (!pipeline) throw problems.notFound("pipeline");
      // A paused pipeline starts no runs, by hand either (409; webhooks answer 410 Gone).
      if (pipeline.paused === 1)
        throw problems.conflict(`The pipeline ${p} is paused; unpause it to start runs.`);
      const stub = pipelineStub(c.env, scope.tenant.id, pipeline.id);
      // A key seen before answers as it did then, before any quota or params check could refuse it.
      const earlier = claim ? await stub.earlierAnswer(claim) : null;
      if (earlier) return replayRun(c, earlier);
      const spec = storedSpec(pipeline.spec);
      const params = resolveParams(spec, body.params ?? {});
      const started = await stub.createRun(
        {
          tenant_id: scope.tenant.id,
          tenant_slug: scope.tenant.slug,
          pipeline_id: pipeline.id,
          pipeline_slug: p,
          origin: publicOrigin(c),
          spec,
          version: pipeline.version,
          params,
          trigger: { kind: "manual" },
          audit: auditRecord(scope, "run.create", p),
        },
        quotasOf(c.env),
        claim,
      );
      if (started.kind === "refused" || started.kind === "unavailable") throw notAdmitted(scope, started, 1);
      if (started.kind !== "created") return replayRun(c, started);
      const { id, status } = started.answer;
      return c.json({ id, status: CreatedRun.shape.status.parse(status) }, 201);
    },
  )
  .openapi(
    route({
      method: "get",
      path: "/{t}/pipelines/{p}/runs",
      operationId: "listRuns",
      request: { params: PipelineParams, query: RunListQuery },
      responses: { 200: json(RunPage, "Runs, newest first"), ...errorResponses },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const { status, limit, cursor } = c.req.valid("query");
      const { stub } = await pipelineObject(c, await authorize(c, t, "viewer"), p);
      const page = await stub.listRuns({
        limit,
        ...(status ? { status } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return c.json(RunPage.parse(page), 200);
    },
  )
  .openapi(
    route({
      method: "get",
      path: "/{t}/pipelines/{p}/runs/{r}",
      operationId: "getRun",
      request: { params: RunParams },
      responses: { 200: json(RunDetail, "The run with every task instance"), ...errorResponses },
    }),
    async (c) => {
      const { t, p, r } = c.req.valid("param");
      const { stub } = await pipelineObject(c, await authorize(c, t, "viewer"), p);
      const run = await stub.getRun(r);
      if (!run) throw problems.notFound("run");
      return c.json(RunDetail.parse(run), 200);
    },
  )
  .openapi(
    route({
      method: "post",
      path: "/{t}/pipelines/{p}/runs/{r}/cancel",
      operationId: "cancelRun",
      request: { params: RunParams },
      responses: { 200: json(RunState, "Cancelled"), ...errorResponses },
    }),
    async (c) => {
      const { t, p, r } = c.req.valid("param");
      const scope = await authorize(c, t, "editor");
      const { stub } = await pipelineObject(c, scope, p);
      const { status } = changed(await stub.cancelRun(r, auditRecord(scope, "run.cancel", `${p}/${r}`)));
      return c.json({ id: r, status }, 200);
    },
  )
  .openapi(
    route({
      method: "post",
      path: "/{t}/pipelines/{p}/runs/{r}/tasks/{task}/retry",
      operationId: "retryTask",
      request: { params: TaskParams, ...optionalBody(RetryTaskBody) },
      responses: { 200: json(RunState, "Cleared; the run runs again"), ...errorResponses },
    }),
    async (c) => {
      const { t, p, r, task } = c.req.valid("param");
      const scope = await authorize(c, t, "editor");
      const { stub } = await pipelineObject(c, scope, p);
      const downstream = c.req.valid("json").downstream ?? true;
      const record = auditRecord(scope, "task.retry", `${p}/${r}/${task}`);
      const { status } = changed(await stub.retryTask(r, task, downstream, record));
      return c.json({ id: r, status }, 200);
    },
  )
  .openapi(
    route({
      method: "post",
      path: "/{t}/pipelines/{p}/runs/{r}/tasks/{task}/mark",
      operationId: "markTask",
      request: { params: TaskParams, ...jsonBody(MarkTaskBody) },
      responses: { 200: json(RunState, "Marked"), ...errorResponses },
    }),
    async (c) => {
      const { t, p, r, task } = c.req.valid("param");
      const scope = await authorize(c, t, "editor");
      const { stub } = await pipelineObject(c, scope, p);
      const mark = c.req.valid("json").status;
      const record = auditRecord(scope, `task.mark_${mark}`, `${p}/${r}/${task}`);
      const { status } = changed(await stub.markTask(r, task, mark, record));
      return c.json({ id: r, status }, 200);
    },
  )
  .openapi(
    route({
      method: "get",
      path: "/{t}/pipelines/{p}/runs/{r}/tasks/{task}/logs",
      operationId: "taskLogs",
      request: { params: TaskParams },
      responses: { 200: json(TaskLogs, "Log lines of every attempt, oldest first"), ...errorResponses },
    }),
    async (c) => {
      const { t, p, r, task } = c.req.valid("param");
      const { stub } = await pipelineObject(c, await authorize(c, t, "viewer"), p);
      return c.json({ items: changed(await stub.taskLogs(r, task)) }, 200);
    },
  );

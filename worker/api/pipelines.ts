/** Pipelines: save (a new immutable version per change), validate, read, list, delete, pause. */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { atLeast } from "../auth/roles";
import { quotasOf } from "../config";
import {
  ListQuery,
  PauseState,
  PipelineDetail,
  PipelinePage,
  SavedPipeline,
  Slug,
  ValidationResult,
} from "../contracts/api";
import { TenantVault } from "../crypto/envelope";
import { newId, sha256Hex } from "../crypto/random";
import { auditEntry } from "../db/audit";
import { batch, db } from "../db/client";
import { isDuplicateKey } from "../db/constraints";
import {
  countPipelines,
  findPipeline,
  findVersion,
  listPipelines,
  listTriggers,
  revisionBump,
} from "../db/pipelines";
import { lastRuns } from "../db/runs";
import { canonicalJson, nextRuns, type PipelineSpec, storedSchedule, storedSpec } from "../engine";
import { syncTriggers, triggerViews } from "../hooks/triggers";
import { publicOrigin } from "../origin";
import { syncSchedule, syncStoredSchedule } from "../pipeline-sync/request";
import { problems } from "../problem";
import { authorize, type TenantScope } from "./access";
import { errorResponses, json, newApi } from "./openapi";
import { retirePipelines } from "./retire";
import { readSpec } from "./spec-body";

const TenantParam = z.object({ t: z.string() });
const PipelineParams = z.object({ t: z.string(), p: z.string() });
const NEXT_RUNS = 5;

const SPEC_CHECKS =
  "The spec is validated (schema, graph, expressions) and then checked against the installed plugins: " +
  "every task's `uses` must name an installed plugin, one of its operators and a version range the " +
  "plugin's version satisfies, and its `with` must fit the operator's input JSON Schema as far as it is " +
  "literal (values containing `{{ … }}` are checked when the task runs). Errors carry `path`, `line` " +
  "and `column`. If a plugin's manifest cannot be read, its tasks are not checked and the spec is accepted.";

const specBody = {
  body: {
    required: true,
    description: "The pipeline spec (see /api/schemas/pipeline.json)",
    content: {
      "application/yaml": { schema: { type: "string" as const } },
      "application/json": { schema: { type: "object" as const } },
    },
  },
};

export async function openVault(c: Context<AppEnv>, scope: TenantScope) {
  return TenantVault.open(c.env.MASTER_KEY, scope.tenant.id, scope.tenant.dataKey);
}

export async function loadPipeline(c: Context<AppEnv>, scope: TenantScope, slug: string) {
  const pipeline = await findPipeline(db(c.env.DB), scope.tenant.id, slug);
  if (!pipeline) throw problems.notFound("pipeline");
  return pipeline;
}

async function saveResponse(
  c: Context<AppEnv>,
  scope: TenantScope,
  pipelineId: string,
  slug: string,
  version: number,
  spec: PipelineSpec,
) {
  const rows = await listTriggers(db(c.env.DB), pipelineId);
  return {
    slug,
    version,
    triggers: await triggerViews(publicOrigin(c), pipelineId, spec, rows, await openVault(c, scope)),
  };
}

export const pipelinesApi = newApi()
  .openapi(
    createRoute({
      method: "put",
      path: "/{t}/pipelines/{p}",
      operationId: "savePipeline",
      tags: ["pipelines"],
      description: `Saves the spec as a new immutable version. ${SPEC_CHECKS} A refused spec saves nothing.`,
      request: { params: PipelineParams, ...specBody },
      responses: {
        200: json(
          SavedPipeline,
          "A new version of an existing pipeline (or the same version, if nothing changed)",
        ),
        201: json(SavedPipeline, "A new pipeline at version 1"),
        ...errorResponses,
        422: {
          ...errorResponses[422],
          description:
            "The slug or the spec is not valid, including unknown plugins or operators, unsatisfied version " +
            "ranges and literal inputs that violate the operator's schema; see errors[].path and line",
        },
      },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const scope = await authorize(c, t, "editor");
      if (!Slug.safeParse(p).success) {
        throw problems.validation(
          [{ path: "slug", message: "must match [a-z0-9][a-z0-9-]{0,62}" }],
          "The pipeline slug is not valid.",
        );
      }
      const { source, format, parsed } = await readSpec(c, scope.tenant.id);
      if (!parsed.ok && parsed.kind === "syntax")
        throw problems.malformed(`The ${format.toUpperCase()} is malformed.`, parsed.errors);
      if (!parsed.ok) throw problems.validation(parsed.errors, "The pipeline spec is not valid.");
      const spec = parsed.spec;
      const canonical = canonicalJson(spec);
      const digest = await sha256Hex(`${canonical}\n${source}`);
      const d = db(c.env.DB);
      const now = new Date();
      const existing = await findPipeline(d, scope.tenant.id, p);
      if (existing) {
        const latest = await findVersion(d, existing.id, existing.latest_version);
        if (latest?.digest === digest) {
          // Nothing new for D1; the object is told again, so a save whose sync failed is repaired by
          // sending it again.
          const target = { id: existing.id, slug: p, paused: existing.paused === 1 };
          await syncSchedule(c, scope, target, { version: existing.latest_version, spec });
          return c.json(await saveResponse(c, scope, existing.id, p, existing.latest_version, spec), 200);
        }
      } else if ((await countPipelines(d, scope.tenant.id)) >= quotasOf(c.env).pipelines) {
        throw problems.quotaExceeded(
          `The ${scope.tenant.plan} plan allows ${quotasOf(c.env).pipelines} pipelines; delete one first.`,
          3600,
        );
      }
      const pipelineId = existing?.id ?? newId("pip");
      const version = (existing?.latest_version ?? 0) + 1;
      const schedule = spec.schedule ? JSON.stringify(spec.schedule) : null;
      const pipelineRow = existing
        ? d
            .updateTable("pipelines")
            .set((eb) => ({
              name: spec.name,
              latest_version: version,
              schedule,
              updated_at: now.toISOString(),
              ...revisionBump(eb, now.getTime()),
            }))
            .where("id", "=", pipelineId)
            // Optimistic concurrency: a concurrent save bumped the version first and this one fails below.
            .where("latest_version", "=", version - 1)
        : d.insertInto("pipelines").values({
            id: pipelineId,
            tenant_id: scope.tenant.id,
            slug: p,
            name: spec.name,
            paused: 0,
            latest_version: version,
            schedule,
            created_at: now.toISOString(),
            updated_at: now.toISOString(),
          });
      const vault = await openVault(c, scope);
      const triggerRows = existing ? await listTriggers(d, pipelineId) : [];
      try {
        await batch(c.env.DB, [
          pipelineRow,
          d.insertInto("pipeline_versions").values({
            pipeline_id: pipelineId,
            version,
            spec: canonical,
            source,
            format,
            digest,
            created_at: now.toISOString(),
            created_by: scope.actor,
          }),
          ...(await syncTriggers(
            c.env,
            d,
            vault,
            { tenantId: scope.tenant.id, pipelineId },
            spec,
            triggerRows,
            now,
          )),
          auditEntry(
            d,
            {
              tenantId: scope.tenant.id,
              actor: scope.actor,
              action: "pipeline.save",
              target: `${p} v${version}`,
              ip: scope.ip,
            },
            now,
          ),
        ]);
      } catch (error) {
        if (isDuplicateKey(error)) {
          throw problems.conflict("The pipeline was changed concurrently; fetch it and save again.");
        }
        throw error;
      }
      const target = { id: pipelineId, slug: p, paused: existing?.paused === 1 };
      await syncSchedule(c, scope, target, { version, spec });
      return c.json(await saveResponse(c, scope, pipelineId, p, version, spec), existing ? 200 : 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/pipelines/{p}/validate",
      operationId: "validatePipeline",
      tags: ["pipelines"],
      description: `Answers what saving the spec would say about it, without saving. ${SPEC_CHECKS}`,
      request: { params: PipelineParams, ...specBody },
      responses: {
        200: json(ValidationResult, "Whether the spec would save, and every error with its path"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "viewer");
      const { parsed } = await readSpec(c, scope.tenant.id);
      return c.json(parsed.ok ? { valid: true, errors: [] } : { valid: false, errors: parsed.errors }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/pipelines",
      operationId: "listPipelines",
      tags: ["pipelines"],
      request: { params: TenantParam, query: ListQuery },
      responses: { 200: json(PipelinePage, "Pipelines by slug"), ...errorResponses },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const scope = await authorize(c, c.req.valid("param").t, "viewer");
      const { rows, more } = await listPipelines(db(c.env.DB), scope.tenant.id, limit, cursor);
      const last = await lastRuns(
        db(c.env.DB),
        rows.map((r) => r.id),
      );
      const items = rows.map((r) => ({
        slug: r.slug,
        name: r.name,
        version: r.latest_version,
        paused: r.paused === 1,
        schedule: r.schedule ? storedSchedule(r.schedule) : null,
        last_run: last.get(r.id) ?? null,
        updated_at: r.updated_at,
      }));
      return c.json({ items, next_cursor: more ? (rows.at(-1)?.slug ?? null) : null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/pipelines/{p}",
      operationId: "getPipeline",
      tags: ["pipelines"],
      request: { params: PipelineParams },
      responses: {
        200: json(PipelineDetail, "The latest version with its triggers and next scheduled runs"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const scope = await authorize(c, t, "viewer");
      const pipeline = await loadPipeline(c, scope, p);
      const d = db(c.env.DB);
      const version = await findVersion(d, pipeline.id, pipeline.latest_version);
      if (!version) throw problems.notFound("pipeline version");
      const spec = storedSpec(version.spec);
      const vault = atLeast(scope.role, "editor") ? await openVault(c, scope) : null;
      const triggers = await triggerViews(
        publicOrigin(c),
        pipeline.id,
        spec,
        await listTriggers(d, pipeline.id),
        vault,
      );
      const paused = pipeline.paused === 1;
      return c.json(
        {
          slug: pipeline.slug,
          name: pipeline.name,
          description: spec.description ?? null,
          version: pipeline.latest_version,
          paused,
          spec: spec as Record<string, unknown>,
          source: version.source,
          format: version.format,
          triggers,
          next_runs:
            spec.schedule && !paused
              ? nextRuns(spec.schedule, new Date(), NEXT_RUNS).map((at) => at.toISOString())
              : [],
          created_at: pipeline.created_at,
          updated_at: pipeline.updated_at,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{t}/pipelines/{p}",
      operationId: "deletePipeline",
      tags: ["pipelines"],
      request: { params: PipelineParams },
      responses: { 204: { description: "Deleted with its versions and triggers" }, ...errorResponses },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const scope = await authorize(c, t, "editor");
      const pipeline = await loadPipeline(c, scope, p);
      const retired = await retirePipelines(
        c.env,
        scope.tenant.id,
        [pipeline.id],
        "the pipeline was deleted",
      );
      const d = db(c.env.DB);
      await batch(c.env.DB, [
        d.deleteFrom("pipelines").where("id", "=", pipeline.id),
        d.deleteFrom("runs").where("pipeline_id", "=", pipeline.id),
        auditEntry(
          d,
          {
            tenantId: scope.tenant.id,
            actor: scope.actor,
            action: "pipeline.delete",
            target: p,
            ip: scope.ip,
          },
          new Date(),
        ),
      ]);
      await retired.purge();
      return c.body(null, 204);
    },
  )
  .openapi(pauseRoute("pause"), (c) => setPaused(c, true))
  .openapi(pauseRoute("unpause"), (c) => setPaused(c, false));

function pauseRoute(action: "pause" | "unpause") {
  return createRoute({
    method: "post",
    path: `/{t}/pipelines/{p}/${action}`,
    operationId: `${action}Pipeline`,
    tags: ["pipelines"],
    request: { params: PipelineParams },
    responses: {
      200: json(PauseState, action === "pause" ? "Paused: no new runs start" : "Unpaused"),
      ...errorResponses,
    },
  });
}

async function setPaused(c: Context<AppEnv>, paused: boolean) {
  const { t, p } = PipelineParams.parse(c.req.param());
  const scope = await authorize(c, t, "editor");
  const pipeline = await loadPipeline(c, scope, p);
  if ((pipeline.paused === 1) !== paused) {
    const d = db(c.env.DB);
    const now = new Date();
    await batch(c.env.DB, [
      d
        .updateTable("pipelines")
        .set((eb) => ({
          paused: paused ? 1 : 0,
          updated_at: now.toISOString(),
          ...revisionBump(eb, now.getTime()),
        }))
        .where("id", "=", pipeline.id),
      auditEntry(
        d,
        {
          tenantId: scope.tenant.id,
          actor: scope.actor,
          action: paused ? "pipeline.pause" : "pipeline.unpause",
          target: p,
          ip: scope.ip,
        },
        now,
      ),
    ]);
  }
  await syncStoredSchedule(c, scope, pipeline);
  return c.json({ slug: p, paused }, 200);
}

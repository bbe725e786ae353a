import { createRoute, z } from "@hono/zod-openapi";
import { ListQuery, PipelineVersionDetail, PipelineVersionList } from "../contracts/api";
import { db } from "../db/client";
import { findVersion, listVersions } from "../db/pipelines";
import { storedSpec } from "../engine";
import { problems } from "../problem";
import { authorize } from "./access";
import { integerCursor } from "./cursor";
import { errorResponses, json, newApi } from "./openapi";
import { loadPipeline } from "./pipelines";

const PipelineParams = z.object({ t: z.string(), p: z.string() });

export const pipelineVersionsApi = newApi()
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/pipelines/{p}/versions",
      operationId: "listPipelineVersions",
      tags: ["pipelines"],
      request: { params: PipelineParams, query: ListQuery },
      responses: { 200: json(PipelineVersionList, "Newest first"), ...errorResponses },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const before = integerCursor(cursor);
      const scope = await authorize(c, t, "viewer");
      const pipeline = await loadPipeline(c, scope, p);
      const { rows, more } = await listVersions(db(c.env.DB), pipeline.id, limit, before);
      return c.json({ items: rows, next_cursor: more ? String(rows.at(-1)?.version) : null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/pipelines/{p}/versions/{v}",
      operationId: "getPipelineVersion",
      tags: ["pipelines"],
      request: { params: PipelineParams.extend({ v: z.string() }) },
      responses: { 200: json(PipelineVersionDetail, "One immutable version"), ...errorResponses },
    }),
    async (c) => {
      const { t, p, v } = c.req.valid("param");
      const scope = await authorize(c, t, "viewer");
      const pipeline = await loadPipeline(c, scope, p);
      const number = Number(v);
      const version = Number.isSafeInteger(number)
        ? await findVersion(db(c.env.DB), pipeline.id, number)
        : undefined;
      if (!version) throw problems.notFound("pipeline version");
      return c.json(
        {
          version: version.version,
          created_at: version.created_at,
          created_by: version.created_by,
          spec: storedSpec(version.spec),
          source: version.source,
          format: version.format,
        },
        200,
      );
    },
  );

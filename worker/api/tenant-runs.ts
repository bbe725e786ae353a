/** Runs across every pipeline of a tenant, from the write-behind summaries in D1. */
import { createRoute, z } from "@hono/zod-openapi";
import { RunListQuery, type RunStatus, TenantRunPage } from "../contracts/api";
import { db } from "../db/client";
import { listTenantRuns } from "../db/runs";
import { authorize } from "./access";
import { badCursor } from "./cursor";
import { errorResponses, json, newApi } from "./openapi";

/** The cursor is the last item's `created_at` and id, so pages stay stable while runs are added. */
function readCursor(cursor: string | undefined) {
  if (cursor === undefined) return undefined;
  const [created_at, id] = cursor.split("|");
  if (!created_at || !id || Number.isNaN(Date.parse(created_at))) {
    throw badCursor();
  }
  return { created_at, id };
}

export const tenantRunsApi = newApi().openapi(
  createRoute({
    method: "get",
    path: "/{t}/runs",
    operationId: "listTenantRuns",
    tags: ["runs"],
    request: { params: z.object({ t: z.string() }), query: RunListQuery },
    responses: { 200: json(TenantRunPage, "Newest first, across pipelines"), ...errorResponses },
  }),
  async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const scope = await authorize(c, c.req.valid("param").t, "viewer");
    const before = readCursor(cursor);
    const { rows, more } = await listTenantRuns(db(c.env.DB), scope.tenant.id, { limit, status, before });
    const items = rows.map(({ pipeline_slug, trigger, status, ...rest }) => ({
      ...rest,
      pipeline: pipeline_slug,
      status: status as z.infer<typeof RunStatus>,
      trigger: trigger as "manual" | "webhook" | "schedule",
    }));
    const last = rows.at(-1);
    return c.json({ items, next_cursor: more && last ? `${last.created_at}|${last.id}` : null }, 200);
  },
);

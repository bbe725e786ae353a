import { createRoute, z } from "@hono/zod-openapi";
import { AuditPage, ListQuery } from "../contracts/api";
import { listAudit } from "../db/audit";
import { db } from "../db/client";
import { authorize } from "./access";
import { integerCursor } from "./cursor";
import { errorResponses, json, newApi } from "./openapi";

export const auditApi = newApi().openapi(
  createRoute({
    method: "get",
    path: "/{t}/audit",
    operationId: "listAudit",
    tags: ["audit"],
    request: { params: z.object({ t: z.string() }), query: ListQuery },
    responses: { 200: json(AuditPage, "Newest first"), ...errorResponses },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const scope = await authorize(c, c.req.valid("param").t, "viewer");
    const before = integerCursor(cursor);
    const { rows, more } = await listAudit(db(c.env.DB), scope.tenant.id, limit, before);
    const last = rows.at(-1);
    return c.json(
      {
        items: rows.map(({ at, actor, action, target, ip }) => ({ at, actor, action, target, ip })),
        next_cursor: more && last ? String(last.seq) : null,
      },
      200,
    );
  },
);

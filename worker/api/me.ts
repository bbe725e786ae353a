import { createRoute } from "@hono/zod-openapi";
import { MeResponse } from "../contracts/api";
import { db } from "../db/client";
import { requirePrincipal } from "./access";
import { errorResponses, json, newApi } from "./openapi";

export const meApi = newApi().openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "getMe",
    tags: ["identity"],
    responses: { 200: json(MeResponse, "The caller and the tenants it can act in"), ...errorResponses },
  }),
  async (c) => {
    const principal = requirePrincipal(c);
    const d = db(c.env.DB);
    if (principal.kind === "token") {
      const tenant = { slug: principal.tenant.slug, name: principal.tenant.name };
      const { id, name, role } = principal.token;
      return c.json(
        { user: null, token: { id, name, role, tenant: tenant.slug }, tenants: [{ ...tenant, role }] },
        200,
      );
    }
    const tenants = await d
      .selectFrom("memberships")
      .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
      .select(["tenants.slug", "tenants.name", "memberships.role"])
      .where("memberships.user_id", "=", principal.user.id)
      .orderBy("tenants.slug")
      .execute();
    return c.json({ user: principal.user, token: null, tenants }, 200);
  },
);

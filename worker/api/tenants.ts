import { createRoute, z } from "@hono/zod-openapi";
import { quotasOf } from "../config";
import { CreateTenantBody, TenantDetail, TenantSummary } from "../contracts/api";
import { newWrappedDataKey } from "../crypto/envelope";
import { newId } from "../crypto/random";
import { auditEntry } from "../db/audit";
import { batch, db } from "../db/client";
import { isDuplicateKey } from "../db/constraints";
import { countPipelines } from "../db/pipelines";
import { RESERVED_SLUGS } from "../marketplace/listing";
import { pluginsInstalledElsewhere } from "../marketplace/registry";
import { problems } from "../problem";
import { tenantStub } from "../tenant/address";
import { authorize, clientIp, requireUser } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";
import { retirePipelines } from "./retire";

const TenantParam = z.object({ t: z.string() });

export const tenantsApi = newApi()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      operationId: "createTenant",
      tags: ["tenants"],
      request: jsonBody(CreateTenantBody),
      responses: { 201: json(TenantSummary, "Created; the caller is its owner"), ...errorResponses },
    }),
    async (c) => {
      const { user } = requireUser(c);
      const body = c.req.valid("json");
      if (RESERVED_SLUGS.has(body.slug)) {
        throw problems.validation(
          [{ path: "slug", message: `"${body.slug}" is reserved` }],
          `The slug "${body.slug}" is reserved.`,
        );
      }
      const d = db(c.env.DB);
      if (await d.selectFrom("tenants").select("id").where("slug", "=", body.slug).executeTakeFirst()) {
        throw problems.conflict(`The slug "${body.slug}" is taken.`);
      }
      const now = new Date();
      const id = newId("ten");
      try {
        await batch(c.env.DB, [
          d.insertInto("tenants").values({
            id,
            slug: body.slug,
            name: body.name,
            plan: "free",
            data_key: await newWrappedDataKey(c.env.MASTER_KEY, id),
            created_at: now.toISOString(),
          }),
          d
            .insertInto("memberships")
            .values({ tenant_id: id, user_id: user.id, role: "owner", created_at: now.toISOString() }),
          auditEntry(
            d,
            { tenantId: id, actor: user.email, action: "tenant.create", target: body.slug, ip: clientIp(c) },
            now,
          ),
        ]);
      } catch (error) {
        if (isDuplicateKey(error)) throw problems.conflict(`The slug "${body.slug}" is taken.`);
        throw error;
      }
      return c.json({ slug: body.slug, name: body.name }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}",
      operationId: "getTenant",
      tags: ["tenants"],
      request: { params: TenantParam },
      responses: { 200: json(TenantDetail, "The tenant, its quotas and usage"), ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "viewer");
      const d = db(c.env.DB);
      const [pipelines, members, runs] = await Promise.all([
        countPipelines(d, scope.tenant.id),
        d
          .selectFrom("memberships")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("tenant_id", "=", scope.tenant.id)
          .executeTakeFirstOrThrow(),
        tenantStub(c.env, scope.tenant.id).usage(),
      ]);
      const { slug, name, plan } = scope.tenant;
      return c.json(
        {
          slug,
          name,
          plan,
          role: scope.role,
          quotas: quotasOf(c.env),
          usage: {
            pipelines,
            members: members.n,
            runs_today: runs.recent,
            active_runs: runs.active,
          },
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{t}",
      operationId: "deleteTenant",
      tags: ["tenants"],
      request: { params: TenantParam },
      responses: { 204: { description: "Deleted with everything in it" }, ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "owner");
      const d = db(c.env.DB);
      // Plugins this tenant published go with it; another tenant's installation of one must not break.
      const installedElsewhere = await pluginsInstalledElsewhere(c.env.DB, scope.tenant.id);
      if (installedElsewhere.length > 0) {
        throw problems.conflict(
          `Other tenants have installed plugins this tenant published (${installedElsewhere.join(", ")}); the tenant cannot be deleted while they do.`,
        );
      }
      const pipelines = await d
        .selectFrom("pipelines")
        .select("id")
        .where("tenant_id", "=", scope.tenant.id)
        .execute();
      const retired = await retirePipelines(
        c.env,
        scope.tenant.id,
        pipelines.map((p) => p.id),
        "the tenant was deleted",
      );
      // Every tenant table cascades from tenants(id).
      await d.deleteFrom("tenants").where("id", "=", scope.tenant.id).execute();
      await retired.purge();
      // Best effort: the tenant is gone either way, and its id is never used again.
      await tenantStub(c.env, scope.tenant.id)
        .forget()
        .catch((error: unknown) => console.error("run ledger not emptied", scope.tenant.id, error));
      return c.body(null, 204);
    },
  );

/** Tenant secrets: write-only values, envelope-encrypted, listed by name only. */
import { createRoute, z } from "@hono/zod-openapi";
import { PutSecretBody, SecretList, SecretName } from "../contracts/api";
import { TenantVault, tenantSecretContext } from "../crypto/envelope";
import { auditEntry } from "../db/audit";
import { batch, db } from "../db/client";
import { bumpSecretUsers, resyncSecretUsers } from "../pipeline-sync/secret-users";
import { problems } from "../problem";
import { authorize } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";

const Params = z.object({ t: z.string(), name: SecretName });

export const secretsApi = newApi()
  .openapi(
    createRoute({
      method: "put",
      path: "/{t}/secrets/{name}",
      operationId: "putSecret",
      tags: ["secrets"],
      request: { params: Params, ...jsonBody(PutSecretBody) },
      responses: { 204: { description: "Stored (write-only)" }, ...errorResponses },
    }),
    async (c) => {
      const { t, name } = c.req.valid("param");
      const { value } = c.req.valid("json");
      const scope = await authorize(c, t, "admin");
      const vault = await TenantVault.open(c.env.MASTER_KEY, scope.tenant.id, scope.tenant.dataKey);
      const now = new Date();
      const d = db(c.env.DB);
      const row = {
        tenant_id: scope.tenant.id,
        name,
        ciphertext: await vault.encrypt(value, tenantSecretContext(scope.tenant.id, name)),
        updated_at: now.toISOString(),
        updated_by: scope.actor,
      };
      await batch(c.env.DB, [
        bumpSecretUsers(d, scope.tenant.id, name),
        d
          .insertInto("secrets")
          .values(row)
          .onConflict((oc) =>
            oc.columns(["tenant_id", "name"]).doUpdateSet({
              ciphertext: row.ciphertext,
              updated_at: row.updated_at,
              updated_by: row.updated_by,
            }),
          ),
        auditEntry(
          d,
          { tenantId: scope.tenant.id, actor: scope.actor, action: "secret.put", target: name, ip: scope.ip },
          now,
        ),
      ]);
      await resyncSecretUsers(c, scope, name);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/secrets",
      operationId: "listSecrets",
      tags: ["secrets"],
      request: { params: z.object({ t: z.string() }) },
      responses: { 200: json(SecretList, "Secret names, never values"), ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "viewer");
      const items = await db(c.env.DB)
        .selectFrom("secrets")
        .select(["name", "updated_at"])
        .where("tenant_id", "=", scope.tenant.id)
        .orderBy("name")
        .execute();
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{t}/secrets/{name}",
      operationId: "deleteSecret",
      tags: ["secrets"],
      request: { params: Params },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      const { t, name } = c.req.valid("param");
      const scope = await authorize(c, t, "admin");
      const d = db(c.env.DB);
      const found = await d
        .selectFrom("secrets")
        .select("name")
        .where("tenant_id", "=", scope.tenant.id)
        .where("name", "=", name)
        .executeTakeFirst();
      if (!found) throw problems.notFound("secret");
      await batch(c.env.DB, [
        bumpSecretUsers(d, scope.tenant.id, name),
        d.deleteFrom("secrets").where("tenant_id", "=", scope.tenant.id).where("name", "=", name),
        auditEntry(
          d,
          {
            tenantId: scope.tenant.id,
            actor: scope.actor,
            action: "secret.delete",
            target: name,
            ip: scope.ip,
          },
          new Date(),
        ),
      ]);
      await resyncSecretUsers(c, scope, name);
      return c.body(null, 204);
    },
  );

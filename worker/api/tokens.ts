/** API tokens: tenant-scoped bearer credentials, stored hashed, shown once. */
import { createRoute, z } from "@hono/zod-openapi";
import { atLeast } from "../auth/roles";
import { TOKEN_PREFIX } from "../auth/tokens";
import { CreatedToken, CreateTokenBody, TokenList } from "../contracts/api";
import { newId, newSecretToken, sha256Hex } from "../crypto/random";
import { auditEntry } from "../db/audit";
import { batch, db } from "../db/client";
import { problems } from "../problem";
import { authorize } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";

export const tokensApi = newApi()
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/tokens",
      operationId: "createToken",
      tags: ["tokens"],
      request: { params: z.object({ t: z.string() }), ...jsonBody(CreateTokenBody) },
      responses: {
        201: json(CreatedToken, "Created; `token` is shown only in this response"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const scope = await authorize(c, c.req.valid("param").t, "admin");
      if (!atLeast(scope.role, body.role)) {
        throw problems.forbidden(`A ${scope.role} cannot create a token with the ${body.role} role.`);
      }
      const d = db(c.env.DB);
      const now = new Date();
      const token = newSecretToken(TOKEN_PREFIX);
      const row = {
        id: newId("tok"),
        name: body.name,
        role: body.role,
        created_at: now.toISOString(),
        last_used_at: null,
      };
      await batch(c.env.DB, [
        d.insertInto("api_tokens").values({
          ...row,
          tenant_id: scope.tenant.id,
          token_hash: await sha256Hex(token),
          created_by: scope.actor,
        }),
        auditEntry(
          d,
          {
            tenantId: scope.tenant.id,
            actor: scope.actor,
            action: "token.create",
            target: `${body.name} (${body.role})`,
            ip: scope.ip,
          },
          now,
        ),
      ]);
      return c.json({ ...row, token }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/tokens",
      operationId: "listTokens",
      tags: ["tokens"],
      request: { params: z.object({ t: z.string() }) },
      responses: { 200: json(TokenList, "Tokens, never their values"), ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "viewer");
      const items = await db(c.env.DB)
        .selectFrom("api_tokens")
        .select(["id", "name", "role", "created_at", "last_used_at"])
        .where("tenant_id", "=", scope.tenant.id)
        .orderBy("created_at", "desc")
        .execute();
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{t}/tokens/{id}",
      operationId: "revokeToken",
      tags: ["tokens"],
      request: { params: z.object({ t: z.string(), id: z.string() }) },
      responses: { 204: { description: "Revoked; it stops working at once" }, ...errorResponses },
    }),
    async (c) => {
      const { t, id } = c.req.valid("param");
      const scope = await authorize(c, t, "admin");
      const d = db(c.env.DB);
      const token = await d
        .selectFrom("api_tokens")
        .select(["name", "role"])
        .where("id", "=", id)
        .where("tenant_id", "=", scope.tenant.id)
        .executeTakeFirst();
      if (!token) throw problems.notFound("token");
      // Revocation deletes the row: the next request with it finds no hash and gets a 401.
      await batch(c.env.DB, [
        d.deleteFrom("api_tokens").where("id", "=", id),
        auditEntry(
          d,
          {
            tenantId: scope.tenant.id,
            actor: scope.actor,
            action: "token.revoke",
            target: token.name,
            ip: scope.ip,
          },
          new Date(),
        ),
      ]);
      return c.body(null, 204);
    },
  );

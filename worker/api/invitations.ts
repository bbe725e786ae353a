/** The invitee's side: look at an invitation and accept it as the signed-in person it was sent to. */
import { createRoute, z } from "@hono/zod-openapi";
import { AcceptedInvitation, InvitationPreview } from "../contracts/api";
import { auditEntry } from "../db/audit";
import { batch, type Db, db } from "../db/client";
import { problems } from "../problem";
import { clientIp, requireUser } from "./access";
import { errorResponses, json, newApi } from "./openapi";

const Params = z.object({ id: z.string() });

/** The invitation behind a link; the unguessable id is the capability, so anyone holding it may look. */
async function pendingInvitation(d: Db, id: string) {
  const row = await d
    .selectFrom("invitations")
    .innerJoin("tenants", "tenants.id", "invitations.tenant_id")
    .select([
      "invitations.tenant_id",
      "invitations.email",
      "invitations.role",
      "invitations.expires_at",
      "invitations.accepted_at",
      "tenants.slug",
      "tenants.name",
    ])
    .where("invitations.id", "=", id)
    .executeTakeFirst();
  if (!row) throw problems.notFound("invitation");
  if (row.accepted_at) throw problems.conflict("This invitation has already been accepted.");
  if (row.expires_at <= new Date().toISOString())
    throw problems.conflict("This invitation has expired; ask for a new one.");
  return row;
}

export const invitationsApi = newApi()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      operationId: "getInvitation",
      tags: ["members"],
      request: { params: Params },
      responses: {
        200: json(
          InvitationPreview,
          "What accepting would do (no sign-in needed: the link is the capability)",
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const row = await pendingInvitation(db(c.env.DB), c.req.valid("param").id);
      return c.json(
        {
          tenant: { slug: row.slug, name: row.name },
          email: row.email,
          role: row.role,
          expires_at: row.expires_at,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/accept",
      operationId: "acceptInvitation",
      tags: ["members"],
      request: { params: Params },
      responses: { 200: json(AcceptedInvitation, "Joined the tenant"), ...errorResponses },
    }),
    async (c) => {
      const { user } = requireUser(c);
      const { id } = c.req.valid("param");
      const d = db(c.env.DB);
      const row = await pendingInvitation(d, id);
      if (row.email !== user.email) {
        throw problems.forbidden(
          `This invitation was sent to another address; you are signed in as ${user.email}.`,
        );
      }
      const member = await d
        .selectFrom("memberships")
        .select("role")
        .where("tenant_id", "=", row.tenant_id)
        .where("user_id", "=", user.id)
        .executeTakeFirst();
      if (member) throw problems.conflict(`You are already a member of ${row.slug}.`);
      const now = new Date();
      await batch(c.env.DB, [
        d.insertInto("memberships").values({
          tenant_id: row.tenant_id,
          user_id: user.id,
          role: row.role,
          created_at: now.toISOString(),
        }),
        d
          .updateTable("invitations")
          .set({ accepted_at: now.toISOString(), accepted_by: user.id })
          .where("id", "=", id),
        auditEntry(
          d,
          {
            tenantId: row.tenant_id,
            actor: user.email,
            action: "member.join",
            target: `${user.email} as ${row.role}`,
            ip: clientIp(c),
          },
          now,
        ),
      ]);
      return c.json({ tenant: { slug: row.slug, name: row.name }, role: row.role }, 200);
    },
  );

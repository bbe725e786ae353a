/** The invitee's side: look at an invitation and accept it as the signed-in person it was sent to. */
import { createRoute, z } from "@hono/zod-openapi";
import { AcceptedInvitation, InvitationPreview } from "../contracts/api";
import { sha256Hex } from "../crypto/random";
import { auditIfChanged } from "../db/audit";
import { batch, type Db, db, previousStatementChanged } from "../db/client";
import { problems } from "../problem";
import { clientIp, requireUser } from "./access";
import { errorResponses, json, newApi } from "./openapi";

const Params = z.object({ token: z.string() });

/**
 * The invitation behind a link. The link's token is the capability, so anyone holding it may look; only
 * its hash is stored, so the invitation's public id (or anything else read from the table) opens nothing.
 */
async function pendingInvitation(d: Db, token: string) {
  const row = await d
    .selectFrom("invitations")
    .innerJoin("tenants", "tenants.id", "invitations.tenant_id")
    .select([
      "invitations.id",
      "invitations.tenant_id",
      "invitations.email",
      "invitations.role",
      "invitations.expires_at",
      "invitations.accepted_at",
      "tenants.slug",
      "tenants.name",
    ])
    .where("invitations.token_hash", "=", await sha256Hex(token))
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
      path: "/{token}",
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
      const row = await pendingInvitation(db(c.env.DB), c.req.valid("param").token);
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
      path: "/{token}/accept",
      operationId: "acceptInvitation",
      tags: ["members"],
      request: { params: Params },
      responses: { 200: json(AcceptedInvitation, "Joined the tenant"), ...errorResponses },
    }),
    async (c) => {
      const { user } = requireUser(c);
      const { token } = c.req.valid("param");
      const d = db(c.env.DB);
      const row = await pendingInvitation(d, token);
      if (row.email !== user.email) {
        throw problems.forbidden(
          `This invitation was sent to another address; you are signed in as ${user.email}.`,
        );
      }
      const now = new Date();
      const at = now.toISOString();
      const [taken] = await batch(c.env.DB, [
        // Taking the invitation decides a race of accepts inside the write: one finds it still pending,
        // the others change nothing, and only a take goes on to the membership and its audit row.
        d
          .updateTable("invitations")
          .set({ accepted_at: at, accepted_by: user.id })
          .where("id", "=", row.id)
          .where("accepted_at", "is", null)
          .where("expires_at", ">", at)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom("memberships")
                  .select("user_id")
                  .where("tenant_id", "=", row.tenant_id)
                  .where("user_id", "=", user.id),
              ),
            ),
          ),
        d
          .insertInto("memberships")
          .columns(["tenant_id", "user_id", "role", "created_at"])
          .expression(
            d
              .selectNoFrom(({ val }) => [
                val(row.tenant_id).as("tenant_id"),
                val(user.id).as("user_id"),
                val(row.role).as("role"),
                val(at).as("created_at"),
              ])
              .where(previousStatementChanged),
          ),
        auditIfChanged(
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
      if (!taken?.meta.changes) {
        // Accepted, expired or revoked meanwhile (pendingInvitation says which), or already a member.
        await pendingInvitation(d, token);
        throw problems.conflict(`You are already a member of ${row.slug}.`);
      }
      return c.json({ tenant: { slug: row.slug, name: row.name }, role: row.role }, 200);
    },
  );

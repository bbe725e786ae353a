/** Members of a tenant and the invitations that add them. */
import { createRoute, z } from "@hono/zod-openapi";
import {
  ChangeRoleBody,
  Invitation,
  InvitationList,
  InviteBody,
  Member,
  MemberList,
  type Role,
} from "../contracts/api";
import { newSecretToken } from "../crypto/random";
import { auditEntry } from "../db/audit";
import { batch, type Db, db } from "../db/client";
import { publicOrigin } from "../origin";
import { problems } from "../problem";
import { authorize, type TenantScope } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";

const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MemberParams = z.object({ t: z.string(), user_id: z.string() });
const InvitationParams = z.object({ t: z.string(), id: z.string() });

function eventOf(scope: TenantScope, action: string, target: string) {
  return { tenantId: scope.tenant.id, actor: scope.actor, action, target, ip: scope.ip };
}

async function findMember(d: Db, tenantId: string, userId: string) {
  const row = await d
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .select(["users.id as user_id", "users.email", "users.name", "memberships.role"])
    .where("memberships.tenant_id", "=", tenantId)
    .where("memberships.user_id", "=", userId)
    .executeTakeFirst();
  if (!row) throw problems.notFound("member");
  return row;
}

async function ownerCount(d: Db, tenantId: string): Promise<number> {
  const row = await d
    .selectFrom("memberships")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", tenantId)
    .where("role", "=", "owner")
    .executeTakeFirstOrThrow();
  return row.n;
}

/** Only owners hand out or take away ownership; admins manage everyone below owner. */
function assertMayManage(scope: TenantScope, current: Role, next?: Role) {
  if ((current === "owner" || next === "owner") && scope.role !== "owner") {
    throw problems.forbidden("Only an owner can grant, change or remove the owner role.");
  }
}

export const membersApi = newApi()
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/members",
      operationId: "listMembers",
      tags: ["members"],
      request: { params: z.object({ t: z.string() }) },
      responses: { 200: json(MemberList, "Members and their roles"), ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "viewer");
      const items = await db(c.env.DB)
        .selectFrom("memberships")
        .innerJoin("users", "users.id", "memberships.user_id")
        .select(["users.id as user_id", "users.email", "users.name", "memberships.role"])
        .where("memberships.tenant_id", "=", scope.tenant.id)
        .orderBy("memberships.created_at")
        .execute();
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{t}/members/{user_id}",
      operationId: "changeMemberRole",
      tags: ["members"],
      request: { params: MemberParams, ...jsonBody(ChangeRoleBody) },
      responses: { 200: json(Member, "The member with the new role"), ...errorResponses },
    }),
    async (c) => {
      const { t, user_id } = c.req.valid("param");
      const { role } = c.req.valid("json");
      const scope = await authorize(c, t, "admin");
      const d = db(c.env.DB);
      const member = await findMember(d, scope.tenant.id, user_id);
      assertMayManage(scope, member.role, role);
      if (member.role === role) return c.json(member, 200);
      if (member.role === "owner" && (await ownerCount(d, scope.tenant.id)) <= 1) {
        throw problems.conflict("The last owner cannot be demoted; make someone else owner first.");
      }
      const now = new Date();
      await batch(c.env.DB, [
        d
          .updateTable("memberships")
          .set({ role })
          .where("tenant_id", "=", scope.tenant.id)
          .where("user_id", "=", user_id),
        auditEntry(d, eventOf(scope, "member.role", `${member.email} ${member.role}→${role}`), now),
      ]);
      return c.json({ ...member, role }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{t}/members/{user_id}",
      operationId: "removeMember",
      tags: ["members"],
      request: { params: MemberParams },
      responses: { 204: { description: "Removed (or left)" }, ...errorResponses },
    }),
    async (c) => {
      const { t, user_id } = c.req.valid("param");
      const principal = c.get("principal");
      const leaving = principal?.kind === "user" && principal.user.id === user_id;
      const scope = await authorize(c, t, leaving ? "viewer" : "admin");
      const d = db(c.env.DB);
      const member = await findMember(d, scope.tenant.id, user_id);
      if (!leaving) assertMayManage(scope, member.role);
      if (member.role === "owner" && (await ownerCount(d, scope.tenant.id)) <= 1) {
        throw problems.conflict("The last owner cannot leave or be removed; make someone else owner first.");
      }
      await batch(c.env.DB, [
        d.deleteFrom("memberships").where("tenant_id", "=", scope.tenant.id).where("user_id", "=", user_id),
        auditEntry(d, eventOf(scope, leaving ? "member.leave" : "member.remove", member.email), new Date()),
      ]);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/invitations",
      operationId: "inviteMember",
      tags: ["members"],
      request: { params: z.object({ t: z.string() }), ...jsonBody(InviteBody) },
      responses: {
        201: json(Invitation, "Invitation created; send accept_url to the invitee"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const scope = await authorize(c, c.req.valid("param").t, "admin");
      assertMayManage(scope, body.role);
      const d = db(c.env.DB);
      const email = body.email.toLowerCase();
      const existing = await d
        .selectFrom("memberships")
        .innerJoin("users", "users.id", "memberships.user_id")
        .select("users.id")
        .where("memberships.tenant_id", "=", scope.tenant.id)
        .where("users.email", "=", email)
        .executeTakeFirst();
      if (existing) throw problems.conflict(`${email} is already a member.`);
      const now = new Date();
      const pending = await d
        .selectFrom("invitations")
        .select("id")
        .where("tenant_id", "=", scope.tenant.id)
        .where("email", "=", email)
        .where("accepted_at", "is", null)
        .where("expires_at", ">", now.toISOString())
        .executeTakeFirst();
      if (pending)
        throw problems.conflict(`${email} already has a pending invitation; revoke it to send a new one.`);
      const invitation = {
        id: newSecretToken("inv"),
        email,
        role: body.role,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
      };
      await batch(c.env.DB, [
        d
          .insertInto("invitations")
          .values({ ...invitation, tenant_id: scope.tenant.id, invited_by: scope.actor }),
        auditEntry(d, eventOf(scope, "member.invite", `${email} as ${body.role}`), now),
      ]);
      return c.json({ ...invitation, accept_url: `${publicOrigin(c)}/invitations/${invitation.id}` }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/invitations",
      operationId: "listInvitations",
      tags: ["members"],
      request: { params: z.object({ t: z.string() }) },
      responses: { 200: json(InvitationList, "Pending invitations"), ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "admin");
      const items = await db(c.env.DB)
        .selectFrom("invitations")
        .select(["id", "email", "role", "created_at", "expires_at"])
        .where("tenant_id", "=", scope.tenant.id)
        .where("accepted_at", "is", null)
        .where("expires_at", ">", new Date().toISOString())
        .orderBy("created_at", "desc")
        .execute();
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{t}/invitations/{id}",
      operationId: "revokeInvitation",
      tags: ["members"],
      request: { params: InvitationParams },
      responses: { 204: { description: "Revoked" }, ...errorResponses },
    }),
    async (c) => {
      const { t, id } = c.req.valid("param");
      const scope = await authorize(c, t, "admin");
      const d = db(c.env.DB);
      const invitation = await d
        .selectFrom("invitations")
        .select(["email", "role"])
        .where("id", "=", id)
        .where("tenant_id", "=", scope.tenant.id)
        .where("accepted_at", "is", null)
        .executeTakeFirst();
      if (!invitation) throw problems.notFound("invitation");
      assertMayManage(scope, invitation.role);
      await batch(c.env.DB, [
        d.deleteFrom("invitations").where("id", "=", id),
        auditEntry(d, eventOf(scope, "member.invite.revoke", invitation.email), new Date()),
      ]);
      return c.body(null, 204);
    },
  );

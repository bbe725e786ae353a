/** Members of a tenant and the invitations that add them. */
import { createRoute, z } from "@hono/zod-openapi";
import type { ExpressionBuilder } from "kysely";
import {
  ChangeRoleBody,
  CreatedInvitation,
  InvitationList,
  InviteBody,
  Member,
  MemberList,
  type Role,
} from "../contracts/api";
import { newId, newSecretToken, sha256Hex } from "../crypto/random";
import { auditEntry, auditIfChanged } from "../db/audit";
import { batch, type Db, db } from "../db/client";
import type { Database } from "../db/schema";
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

/**
 * The member as it was read and checked. A role changed meanwhile matches nothing (an admin who read an
 * editor must not demote the owner that editor has just become), and an owner matches only while another
 * owner remains, so two owners demoting or removing each other at once cannot leave the tenant without
 * one: the check runs inside the write, not in a read before it.
 */
function asChecked(tenantId: string, member: { user_id: string; role: Role }) {
  return (eb: ExpressionBuilder<Database, "memberships">) =>
    eb.and([
      eb("tenant_id", "=", tenantId),
      eb("user_id", "=", member.user_id),
      eb("role", "=", member.role),
      ...(member.role === "owner"
        ? [
            eb.exists(
              eb
                .selectFrom("memberships as other")
                .select("other.user_id")
                .where("other.tenant_id", "=", tenantId)
                .where("other.role", "=", "owner")
                .where("other.user_id", "!=", member.user_id),
            ),
          ]
        : []),
    ]);
}

/** Why a write of the member as checked changed nothing, given the member as it is now. */
function notAsChecked(checked: { email: string; role: Role }, current: { role: Role }, lastOwner: string) {
  if (current.role !== checked.role) {
    return problems.conflict(`${checked.email} became ${current.role} meanwhile; look again and retry.`);
  }
  return problems.conflict(lastOwner);
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
      const [changed] = await batch(c.env.DB, [
        d.updateTable("memberships").set({ role }).where(asChecked(scope.tenant.id, member)),
        auditIfChanged(
          d,
          eventOf(scope, "member.role", `${member.email} ${member.role}→${role}`),
          new Date(),
        ),
      ]);
      if (!changed?.meta.changes) {
        const current = await findMember(d, scope.tenant.id, user_id);
        // Someone else made the same change meanwhile: what was asked for holds.
        if (current.role === role) return c.json(current, 200);
        throw notAsChecked(
          member,
          current,
          "The last owner cannot be demoted; make someone else owner first.",
        );
      }
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
      const [removed] = await batch(c.env.DB, [
        d.deleteFrom("memberships").where(asChecked(scope.tenant.id, member)),
        auditIfChanged(
          d,
          eventOf(scope, leaving ? "member.leave" : "member.remove", member.email),
          new Date(),
        ),
      ]);
      if (!removed?.meta.changes) {
        throw notAsChecked(
          member,
          await findMember(d, scope.tenant.id, user_id),
          "The last owner cannot leave or be removed; make someone else owner first.",
        );
      }
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
        201: json(
          CreatedInvitation,
          "Invitation created; send accept_url to the invitee (its token is shown only here)",
        ),
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
      // The link's token is the capability; only its hash is stored, and the id that lists and revokes
      // the invitation is a separate, public name.
      const token = newSecretToken("invite");
      const invitation = {
        id: newId("inv"),
        email,
        role: body.role,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
      };
      await batch(c.env.DB, [
        d.insertInto("invitations").values({
          ...invitation,
          token_hash: await sha256Hex(token),
          tenant_id: scope.tenant.id,
          invited_by: scope.actor,
        }),
        auditEntry(d, eventOf(scope, "member.invite", `${email} as ${body.role}`), now),
      ]);
      return c.json({ ...invitation, accept_url: `${publicOrigin(c)}/invitations/${token}` }, 201);
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

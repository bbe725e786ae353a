/**
 * Tenant access checks, called at the top of every tenant route. Another tenant's objects are 404,
 * never 403: a caller outside a tenant cannot tell whether it exists.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { actorName, type Principal, type TokenTenant } from "../auth/principal";
import { atLeast } from "../auth/roles";
import type { Role } from "../contracts/api";
import { db } from "../db/client";
import { problems } from "../problem";

export type TenantScope = {
  tenant: { id: string; slug: string; name: string; plan: string; dataKey: string };
  role: Role;
  principal: Principal;
  actor: string;
  ip: string | null;
};

export function requirePrincipal(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  if (!principal) throw problems.unauthenticated();
  return principal;
}

export function requireUser(c: Context<AppEnv>): Extract<Principal, { kind: "user" }> {
  const principal = requirePrincipal(c);
  if (principal.kind !== "user")
    throw problems.forbidden("This action needs a signed-in person, not an API token.");
  return principal;
}

export function clientIp(c: Context<AppEnv>): string | null {
  return c.req.header("cf-connecting-ip") ?? null;
}

export async function authorize(c: Context<AppEnv>, slug: string, minimum: Role): Promise<TenantScope> {
  const principal = requirePrincipal(c);
  let found: (TokenTenant & { role: Role }) | undefined;
  if (principal.kind === "token") {
    // A token reaches its own tenant only; its tenant was read with it.
    if (principal.tenant.slug === slug) found = { ...principal.tenant, role: principal.token.role };
  } else {
    found = await db(c.env.DB)
      .selectFrom("tenants")
      .innerJoin("memberships", "memberships.tenant_id", "tenants.id")
      .select(["tenants.id", "tenants.slug", "tenants.name", "tenants.plan", "tenants.data_key"])
      .select("memberships.role")
      .where("tenants.slug", "=", slug)
      .where("memberships.user_id", "=", principal.user.id)
      .executeTakeFirst();
  }
  if (!found) throw problems.notFound("tenant");
  if (!atLeast(found.role, minimum)) {
    throw problems.forbidden(`This needs the ${minimum} role or higher; you are ${found.role} in ${slug}.`);
  }
  return {
    tenant: { id: found.id, slug: found.slug, name: found.name, plan: found.plan, dataKey: found.data_key },
    role: found.role,
    principal,
    actor: actorName(principal),
    ip: clientIp(c),
  };
}

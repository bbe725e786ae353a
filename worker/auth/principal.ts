import type { Role } from "../contracts/api";

/** The tenant an API token belongs to, read with the token (one D1 query authenticates and scopes it). */
export type TokenTenant = { id: string; slug: string; name: string; plan: string; data_key: string };

/** Who is calling: a signed-in person (session cookie) or a tenant-scoped API token. */
export type Principal =
  | { kind: "user"; user: { id: string; email: string; name: string }; sessionHash: string }
  | {
      kind: "token";
      token: { id: string; name: string; tenantId: string; role: Exclude<Role, "owner"> };
      tenant: TokenTenant;
    };

/** How the actor appears in the audit log. */
export function actorName(principal: Principal): string {
  switch (principal.kind) {
    case "user":
      return principal.user.email;
    case "token":
      return `token:${principal.token.name}`;
    default: {
      const unreachable: never = principal;
      return unreachable;
    }
  }
}

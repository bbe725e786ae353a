import type { Role } from "$lib/api";

const rank: Record<Role, number> = { viewer: 1, editor: 2, admin: 3, owner: 4 };

/** Whether `role` is `min` or above (owner > admin > editor > viewer). */
export function atLeast(role: Role | undefined, min: Role): boolean {
  return role !== undefined && rank[role] >= rank[min];
}

/** What the dashboard lets a role do; the server enforces the same rules. */
export const can = {
  editPipelines: (role: Role | undefined) => atLeast(role, "editor"),
  manageTenant: (role: Role | undefined) => atLeast(role, "admin"),
};

export const GRANTABLE_ROLES = ["admin", "editor", "viewer"] as const;
export const ALL_ROLES = ["owner", "admin", "editor", "viewer"] as const;

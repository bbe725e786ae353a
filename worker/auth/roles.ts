import type { Role } from "../contracts/api";

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export function atLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** The weaker of two roles: a token never acts above the role it was issued with. */
export function weaker(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

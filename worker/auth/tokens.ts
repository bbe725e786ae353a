import { sha256Hex } from "../crypto/random";
import type { Db } from "../db/client";
import type { Principal } from "./principal";

export const TOKEN_PREFIX = "upd";
/** last_used_at is refreshed at most this often, so reads do not turn into a D1 write each. */
const TOUCH_INTERVAL_MS = 60_000;

export type TokenPrincipal = Extract<Principal, { kind: "token" }>;

export async function lookupToken(
  db: Db,
  token: string,
  now: Date,
): Promise<{ principal: TokenPrincipal; touch: boolean } | null> {
  const row = await db
    .selectFrom("api_tokens")
    .select(["id", "name", "tenant_id", "role", "last_used_at"])
    .where("token_hash", "=", await sha256Hex(token))
    .executeTakeFirst();
  if (!row) return null;
  const stale = !row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS;
  return {
    principal: {
      kind: "token",
      token: { id: row.id, name: row.name, tenantId: row.tenant_id, role: row.role },
    },
    touch: stale,
  };
}

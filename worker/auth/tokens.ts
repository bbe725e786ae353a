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
  // The token's tenant comes along: authorize() needs it on every request, and this saves a round trip.
  const row = await db
    .selectFrom("api_tokens")
    .innerJoin("tenants", "tenants.id", "api_tokens.tenant_id")
    .select([
      "api_tokens.id",
      "api_tokens.name",
      "api_tokens.tenant_id",
      "api_tokens.role",
      "api_tokens.last_used_at",
      "tenants.slug",
      "tenants.name as tenant_name",
      "tenants.plan",
      "tenants.data_key",
    ])
    .where("api_tokens.token_hash", "=", await sha256Hex(token))
    .executeTakeFirst();
  if (!row) return null;
  const stale = !row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS;
  return {
    principal: {
      kind: "token",
      token: { id: row.id, name: row.name, tenantId: row.tenant_id, role: row.role },
      tenant: {
        id: row.tenant_id,
        slug: row.slug,
        name: row.tenant_name,
        plan: row.plan,
        data_key: row.data_key,
      },
    },
    touch: stale,
  };
}

/** Which of these API tokens, by id, are unrevoked: revocation deletes the row, as lookupToken relies on. */
export function unrevokedTokens(db: Db, ids: readonly string[]) {
  return db.selectFrom("api_tokens").select("id").where("id", "in", ids);
}

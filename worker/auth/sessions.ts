import { newSecretToken, sha256Hex } from "../crypto/random";
import type { Db } from "../db/client";

export const SESSION_COOKIE = "updraft_session";
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export type SessionUser = { id: string; email: string; name: string };
export type SessionLookup =
  | { status: "valid"; user: SessionUser; sessionHash: string }
  | { status: "expired" | "unknown" };

export async function newSession(userId: string, now: Date) {
  const token = newSecretToken("ses");
  const row = {
    token_hash: await sha256Hex(token),
    user_id: userId,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
  };
  return { token, row };
}

export async function lookupSession(db: Db, token: string, now: Date): Promise<SessionLookup> {
  const sessionHash = await sha256Hex(token);
  const row = await db
    .selectFrom("sessions")
    .innerJoin("users", "users.id", "sessions.user_id")
    .select(["users.id", "users.email", "users.name", "sessions.expires_at"])
    .where("sessions.token_hash", "=", sessionHash)
    .executeTakeFirst();
  if (!row) return { status: "unknown" };
  if (row.expires_at <= now.toISOString()) return { status: "expired" };
  return { status: "valid", user: { id: row.id, email: row.email, name: row.name }, sessionHash };
}

/**
 * Which of these sessions, by token hash, are still signed in at `now`: neither signed out (the row is
 * deleted) nor expired — lookupSession's rule, for many sessions in one statement (a D1 batch member).
 */
export function signedInSessions(db: Db, hashes: readonly string[], now: Date) {
  return db
    .selectFrom("sessions")
    .select("token_hash")
    .where("token_hash", "in", hashes)
    .where("expires_at", ">", now.toISOString());
}

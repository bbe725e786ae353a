import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { lookupSession, SESSION_COOKIE } from "../auth/sessions";
import { lookupToken } from "../auth/tokens";
import { db } from "../db/client";
import { problems } from "../problem";

export type AuthenticateOptions = { now?: () => Date };

/**
 * Resolves the caller from `Authorization: Bearer <token>` or the session cookie. A credential that
 * is present but unknown, revoked or expired is a 401 at once — never a silent anonymous request.
 */
export function authenticate(options: AuthenticateOptions = {}) {
  const now = options.now ?? (() => new Date());
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set("principal", null);
    const authorization = c.req.header("authorization");
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match?.[1]) throw problems.unauthenticated("The Authorization header must be `Bearer <token>`.");
      const found = await lookupToken(db(c.env.DB), match[1], now());
      if (!found) throw problems.unauthenticated("The API token is unknown or has been revoked.");
      c.set("principal", found.principal);
      if (found.touch) {
        const at = now().toISOString();
        c.executionCtx.waitUntil(
          db(c.env.DB)
            .updateTable("api_tokens")
            .set({ last_used_at: at })
            .where("id", "=", found.principal.token.id)
            .execute(),
        );
      }
      return next();
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) {
      const session = await lookupSession(db(c.env.DB), cookie, now());
      if (session.status === "valid") {
        c.set("principal", { kind: "user", user: session.user, sessionHash: session.sessionHash });
      } else if (!isSessionOptional(c.req.path)) {
        throw problems.unauthenticated(
          session.status === "expired"
            ? "Your session has expired; sign in again."
            : "Your session is no longer valid; sign in again.",
        );
      }
    }
    return next();
  });
}

/** Signing in or up with a stale cookie in the browser must still work. */
function isSessionOptional(path: string): boolean {
  return path.startsWith("/api/auth/") || path === "/api/health";
}

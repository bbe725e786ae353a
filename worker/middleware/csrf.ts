import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { SESSION_COOKIE } from "../auth/sessions";
import { publicOrigin } from "../origin";
import { problems } from "../problem";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF protection for cookie-authenticated writes (API.md "Origin"): the `Origin` header must be the
 * product's own origin and `Sec-Fetch-Site`, where the browser sends it, must not be cross-site.
 * Bearer-token requests carry no ambient credential and need no Origin.
 */
export function csrfProtection() {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || c.req.header("authorization") !== undefined) return next();
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && site !== "same-origin" && site !== "none") {
      throw problems.csrf(`A ${site} request may not change anything here.`);
    }
    if (origin !== undefined && origin !== publicOrigin(c)) {
      throw problems.csrf(`Requests from ${origin} may not change anything here.`);
    }
    if (origin === undefined && getCookie(c, SESSION_COOKIE) !== undefined) {
      throw problems.csrf(
        "Cookie-authenticated writes must carry an Origin header; API clients should use a Bearer token.",
      );
    }
    return next();
  });
}

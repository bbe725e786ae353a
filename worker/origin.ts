import type { Context } from "hono";
import type { AppEnv } from "./app-env";

/** The product's own origin: PUBLIC_URL when set, else the origin the request arrived on. */
export function publicOrigin(c: Context<AppEnv>): string {
  const configured = c.env.PUBLIC_URL;
  return configured ? new URL(configured).origin : new URL(c.req.url).origin;
}

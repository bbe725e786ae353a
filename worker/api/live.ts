/**
 * `GET /api/tenants/{t}/pipelines/{p}/live`: a WebSocket of run and task state changes, served by the
 * pipeline's Durable Object after the usual checks. Browsers send cookies on WebSocket upgrades from
 * any site, so a cookie-authenticated upgrade must come from the product's own origin. The object is
 * told who watches, so it can close the socket once that access ends (pipeline/watchers.ts).
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { publicOrigin } from "../origin";
import { WATCHER_HEADER, watcherOf } from "../pipeline/live";
import { problems } from "../problem";
import { authorize } from "./access";
import { pipelineObject } from "./run-support";

export const liveApi = new Hono<AppEnv>().get("/:t/pipelines/:p/live", async (c) => {
  const scope = await authorize(c, c.req.param("t"), "viewer");
  const { stub } = await pipelineObject(c, scope, c.req.param("p"));
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw problems.upgradeRequired("Open this URL as a WebSocket (Upgrade: websocket).");
  }
  const origin = c.req.header("origin");
  if (scope.principal.kind === "user" && origin !== undefined && origin !== publicOrigin(c)) {
    throw problems.csrf(`A WebSocket from ${origin} may not watch this pipeline.`);
  }
  const headers = new Headers(c.req.raw.headers);
  // Only the Worker says who watches: set() replaces any value the client sent.
  headers.set(WATCHER_HEADER, JSON.stringify(watcherOf(scope.principal, scope.tenant.id)));
  return stub.fetch(new Request(c.req.raw, { headers }));
});

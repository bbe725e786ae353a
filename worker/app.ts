/**
 * The root Hono app: middleware order, route mounts, and the one error path (problem+json).
 * Order matters: body size first (nothing reads an oversized body), then UTF-8 (no garbled text is
 * stored), then CSRF (nothing is written
 * for a foreign origin), then identity.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { methodIndex } from "./allowed-methods";
import { auditApi } from "./api/audit";
import { authApi } from "./api/auth";
import { backfillApi } from "./api/backfill";
import { blueprintsApi } from "./api/blueprints";
import { callbacksApi } from "./api/callbacks";
import { deliveriesApi } from "./api/deliveries";
import { hookSecretsApi } from "./api/hook-secrets";
import { installationsApi } from "./api/installations";
import { invitationsApi } from "./api/invitations";
import { liveApi } from "./api/live";
import { marketplaceApi } from "./api/marketplace";
import { meApi } from "./api/me";
import { membersApi } from "./api/members";
import { pipelineVersionsApi } from "./api/pipeline-versions";
import { pipelinesApi } from "./api/pipelines";
import { platformApi } from "./api/platform";
import { publicationsApi } from "./api/publications";
import { runsApi } from "./api/runs";
import { secretsApi } from "./api/secrets";
import { tenantRunsApi } from "./api/tenant-runs";
import { tenantsApi } from "./api/tenants";
import { tokensApi } from "./api/tokens";
import type { AppEnv } from "./app-env";
import { VERSION } from "./config";
import { publicJwks } from "./crypto/signing";
import { hooksIngress } from "./hooks/ingress";
import { loggablePath } from "./log-path";
import { authenticate } from "./middleware/authenticate";
import { csrfProtection } from "./middleware/csrf";
import { utf8Body } from "./middleware/utf8-body";
import { type ProblemCode, ProblemError, problems } from "./problem";

export const MAX_BODY_BYTES = 1024 * 1024;

const HTTP_EXCEPTION_CODES: Partial<Record<number, ProblemCode>> = {
  400: "malformed_body",
  401: "unauthenticated",
  404: "not_found",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

function toProblem(error: unknown): ProblemError | null {
  if (error instanceof ProblemError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[error.status] ?? "bad_request";
    const detail =
      error.status === 415
        ? "Send a JSON body with Content-Type: application/json."
        : error.message || "The request is not valid.";
    return new ProblemError(error.status, code, detail);
  }
  return null;
}

const app = new OpenAPIHono<AppEnv>();

app.use(
  "/api/*",
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw problems.tooLarge(MAX_BODY_BYTES);
    },
  }),
);
app.use("/api/*", utf8Body());
app.use("/api/*", csrfProtection());
app.use("/api/*", authenticate());

const routes = app
  .route("/api", platformApi)
  .route("/api/auth", authApi)
  .route("/api/me", meApi)
  .route("/api/tenants", tenantsApi)
  .route("/api/tenants", membersApi)
  .route("/api/tenants", tokensApi)
  .route("/api/tenants", secretsApi)
  .route("/api/tenants", auditApi)
  .route("/api/tenants", pipelinesApi)
  .route("/api/tenants", pipelineVersionsApi)
  .route("/api/tenants", runsApi)
  .route("/api/tenants", backfillApi)
  .route("/api/tenants", deliveriesApi)
  .route("/api/tenants", hookSecretsApi)
  .route("/api/tenants", tenantRunsApi)
  .route("/api/tenants", liveApi)
  .route("/api/tenants", publicationsApi)
  .route("/api/tenants", installationsApi)
  .route("/api/marketplace", marketplaceApi)
  .route("/api/blueprints", blueprintsApi)
  .route("/api/callbacks", callbacksApi)
  .route("/api/invitations", invitationsApi)
  .route("/hooks", hooksIngress);

app.get("/.well-known/jwks.json", (c) =>
  c.json(publicJwks(c.env.SIGNING_KEY), 200, { "Cache-Control": "public, max-age=300" }),
);

app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  description: "An API token (`upd_…`) created under /api/tenants/{t}/tokens",
});
app.openAPIRegistry.registerComponent("securitySchemes", "session", {
  type: "apiKey",
  in: "cookie",
  name: "updraft_session",
  description: "The dashboard's session cookie; writes must come from the product's own Origin",
});

/** Either credential works on every authenticated route. */
const SECURITY: Array<Record<string, string[]>> = [{ bearer: [] }, { session: [] }];

app.doc31("/api/openapi.json", (c) => ({
  security: SECURITY,
  openapi: "3.1.0",
  info: {
    title: "Updraft API",
    version: VERSION,
    description: "Workflow orchestration on Cloudflare's edge.",
  },
  servers: [{ url: new URL(c.req.url).origin }],
}));

let allowedMethods: ((path: string) => string[]) | undefined;

app.notFound((c) => {
  allowedMethods ??= methodIndex(app.routes);
  const allowed = allowedMethods(c.req.path);
  if (allowed.length > 0) {
    const problem = problems.methodNotAllowed(c.req.method);
    return c.json(problem.toJSON(), 405, {
      "Content-Type": "application/problem+json",
      Allow: allowed.join(", "),
    });
  }
  const problem = problems.notFound("route");
  return c.json(problem.toJSON(), 404, { "Content-Type": "application/problem+json" });
});

app.onError((error, c) => {
  const problem = toProblem(error);
  if (problem) {
    return c.json(problem.toJSON(), problem.status as ContentfulStatusCode, {
      ...problem.headers,
      "Content-Type": "application/problem+json",
    });
  }
  console.error("unhandled error", c.req.method, loggablePath(c.req.path), error);
  const internal = new ProblemError(500, "internal", "Something went wrong on our side; it has been logged.");
  return c.json(internal.toJSON(), 500, { "Content-Type": "application/problem+json" });
});

export type AppType = typeof routes;
export { app };

/**
 * Tenancy: another tenant's objects are 404 on every tenant route, and a viewer's writes are 403.
 * One matrix over the app's own route table, so a new route that forgets `authorize` shows up here.
 */
import { describe, expect, it } from "vitest";
import { app } from "../../worker/app";
import { addMember, expectProblem, ownerWithTenant } from "./helpers";

type Route = {
  /** "METHOD /api/tenants/:t/…" as the app's route table has it. */
  key: string;
  method: string;
  path: (t: string) => string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  viewerDenied: boolean;
  /** What a viewer gets when the route is not denied to them (200 unless said). */
  viewerStatus?: number;
};

const SPEC = "name: Demo\ntasks:\n  - id: a\n    uses: core/noop@^1\n";
const YAML = { raw: SPEC, contentType: "application/yaml" };

/** A valid body for each route that takes one: the checks must reach authorisation, not validation. */
const BODIES: Record<string, Pick<Route, "body" | "raw" | "contentType">> = {
  "PATCH /api/tenants/:t/members/:user_id": { body: { role: "viewer" } },
  "POST /api/tenants/:t/invitations": { body: { email: "a@example.com", role: "viewer" } },
  "POST /api/tenants/:t/tokens": { body: { name: "n", role: "viewer" } },
  "PUT /api/tenants/:t/secrets/:name": { body: { value: "v" } },
  "PUT /api/tenants/:t/pipelines/:p": YAML,
  "POST /api/tenants/:t/pipelines/:p/validate": YAML,
  "POST /api/tenants/:t/pipelines/:p/runs": { body: {} },
  "POST /api/tenants/:t/pipelines/:p/runs/:r/tasks/:task/mark": { body: { status: "success" } },
  "POST /api/tenants/:t/pipelines/:p/runs/:r/tasks/:task/retry": { body: {} },
  "POST /api/tenants/:t/pipelines/:p/backfill": {
    body: { from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", reprocess: "missing", dry_run: true },
  },
  "POST /api/tenants/:t/pipelines/:p/deliveries/:d/replay": { body: {} },
  "POST /api/tenants/:t/pipelines/:p/deliveries/replay": {
    body: { from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", version: "latest", dry_run: true },
  },
  "POST /api/tenants/:t/pipelines/:p/triggers/:trigger/rotate-secret": { body: {} },
  "POST /api/tenants/:t/pipelines/:p/triggers/:trigger/test-delivery": { body: {} },
  "POST /api/tenants/:t/publications": { body: { url: "https://plugins.example.com/acme" } },
  "PATCH /api/tenants/:t/plugins/:name": { body: { visibility: "public" } },
  "POST /api/tenants/:t/installations": { body: { plugin: "core", config: {} } },
  "PATCH /api/tenants/:t/installations/:id": { body: {} },
};

/** Where a viewer's answer is not "200 for reads, 403 for writes". */
const VIEWER: Record<string, { denied: boolean; status?: number }> = {
  "GET /api/tenants/:t/invitations": { denied: true },
  "POST /api/tenants/:t/pipelines/:p/validate": { denied: false },
  // Reachable by a viewer, but only as a WebSocket.
  "GET /api/tenants/:t/pipelines/:p/live": { denied: false, status: 426 },
  // The demo pipeline has no such delivery: a viewer may look, and finds nothing.
  "GET /api/tenants/:t/pipelines/:p/deliveries/:d": { denied: false, status: 404 },
  // The tenant has no such installation: a viewer may look, and finds nothing.
  "GET /api/tenants/:t/installations/:id": { denied: false, status: 404 },
};

/**
 * Every route of the app under /api/tenants/:t, from the app's own route table: a route added without
 * `authorize` fails these tests instead of being missed by a hand-written list.
 */
function tenantRoutes(run: string): Route[] {
  const params: Record<string, string> = {
    p: "demo",
    r: run,
    task: "a",
    user_id: "usr_x",
    name: "NAME",
    id: "x",
    v: "1",
    d: "dlv_x",
    trigger: "in",
  };
  const seen = new Set<string>();
  const routes: Route[] = [];
  for (const { method, path } of app.routes) {
    const key = `${method} ${path}`;
    if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(method)) continue;
    if (!path.startsWith("/api/tenants/:t") || seen.has(key)) continue;
    seen.add(key);
    const viewer = VIEWER[key] ?? { denied: method !== "GET" };
    routes.push({
      key,
      method,
      path: (t) =>
        path.replace(/:(\w+)/g, (_, name: string) => {
          if (name === "t") return t;
          const value = params[name];
          if (value === undefined) throw new Error(`isolation matrix: give :${name} of ${key} a value`);
          return value;
        }),
      ...BODIES[key],
      viewerDenied: viewer.denied,
      viewerStatus: viewer.status,
    });
  }
  return routes;
}

/** A tenant with the pipeline "demo" and one run of it. */
async function tenantWithRun() {
  const tenant = await ownerWithTenant();
  await tenant.owner.call("PUT", `/api/tenants/${tenant.slug}/pipelines/demo`, YAML);
  const run = await tenant.owner.json<{ id: string }>(
    "POST",
    `/api/tenants/${tenant.slug}/pipelines/demo/runs`,
    {
      body: {},
    },
  );
  return { ...tenant, run: run.body.id };
}

describe("tenant isolation", () => {
  it("covers every tenant route of the app, and its tables name only routes that exist", () => {
    const keys = new Set(tenantRoutes("run_x").map((r) => r.key));
    expect(keys.size).toBeGreaterThanOrEqual(30);
    for (const key of [...Object.keys(BODIES), ...Object.keys(VIEWER)]) expect(keys).toContain(key);
  });

  it("answers 404 for every route of a tenant the caller does not belong to", async () => {
    const victim = await tenantWithRun();
    const attacker = await ownerWithTenant();
    for (const route of tenantRoutes(victim.run)) {
      const res = await attacker.owner.json(route.method, route.path(victim.slug), route);
      expect({ route: `${route.method} ${route.path("{t}")}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path("{t}")}`,
        status: 404,
      });
      expectProblem(res, 404);
    }
    // Nothing changed for the victim.
    const pipeline = await victim.owner.json<{ version: number; paused: boolean }>(
      "GET",
      `/api/tenants/${victim.slug}/pipelines/demo`,
    );
    expect(pipeline.body).toMatchObject({ version: 1, paused: false });
  });

  it("answers 403 to a viewer's writes in their own tenant, and lets them read", async () => {
    const { owner, slug, run } = await tenantWithRun();
    const viewer = await addMember(owner, slug, "viewer");
    const routes = tenantRoutes(run);
    for (const route of routes.filter((r) => r.viewerDenied)) {
      const res = await viewer.client.json(route.method, route.path(slug), route);
      expect({ route: `${route.method} ${route.path("{t}")}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path("{t}")}`,
        status: 403,
      });
    }
    for (const route of routes.filter((r) => !r.viewerDenied)) {
      const res = await viewer.client.json(route.method, route.path(slug), route);
      expect({ route: `${route.method} ${route.path("{t}")}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path("{t}")}`,
        status: route.viewerStatus ?? 200,
      });
    }
  });
});

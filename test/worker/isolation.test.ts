/**
 * Tenancy: another tenant's objects are 404 on every tenant route, and a viewer's writes are 403.
 * One matrix over the routes, so a new route that forgets `authorize` shows up here.
 */
import { describe, expect, it } from "vitest";
import { addMember, expectProblem, ownerWithTenant } from "./helpers";

type Route = {
  method: string;
  path: (t: string) => string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  viewerDenied: boolean;
};

const SPEC = "name: Demo\ntasks:\n  - id: a\n    uses: core/noop@^1\n";

const ROUTES: Route[] = [
  { method: "GET", path: (t) => `/api/tenants/${t}`, viewerDenied: false },
  { method: "DELETE", path: (t) => `/api/tenants/${t}`, viewerDenied: true },
  { method: "GET", path: (t) => `/api/tenants/${t}/members`, viewerDenied: false },
  {
    method: "PATCH",
    path: (t) => `/api/tenants/${t}/members/usr_x`,
    body: { role: "viewer" },
    viewerDenied: true,
  },
  { method: "DELETE", path: (t) => `/api/tenants/${t}/members/usr_x`, viewerDenied: true },
  {
    method: "POST",
    path: (t) => `/api/tenants/${t}/invitations`,
    body: { email: "a@example.com", role: "viewer" },
    viewerDenied: true,
  },
  { method: "GET", path: (t) => `/api/tenants/${t}/invitations`, viewerDenied: true },
  { method: "DELETE", path: (t) => `/api/tenants/${t}/invitations/inv_x`, viewerDenied: true },
  {
    method: "POST",
    path: (t) => `/api/tenants/${t}/tokens`,
    body: { name: "n", role: "viewer" },
    viewerDenied: true,
  },
  { method: "GET", path: (t) => `/api/tenants/${t}/tokens`, viewerDenied: false },
  { method: "DELETE", path: (t) => `/api/tenants/${t}/tokens/tok_x`, viewerDenied: true },
  { method: "PUT", path: (t) => `/api/tenants/${t}/secrets/NAME`, body: { value: "v" }, viewerDenied: true },
  { method: "GET", path: (t) => `/api/tenants/${t}/secrets`, viewerDenied: false },
  { method: "DELETE", path: (t) => `/api/tenants/${t}/secrets/NAME`, viewerDenied: true },
  { method: "GET", path: (t) => `/api/tenants/${t}/audit`, viewerDenied: false },
  {
    method: "PUT",
    path: (t) => `/api/tenants/${t}/pipelines/demo`,
    raw: SPEC,
    contentType: "application/yaml",
    viewerDenied: true,
  },
  {
    method: "POST",
    path: (t) => `/api/tenants/${t}/pipelines/demo/validate`,
    raw: SPEC,
    contentType: "application/yaml",
    viewerDenied: false,
  },
  { method: "GET", path: (t) => `/api/tenants/${t}/pipelines`, viewerDenied: false },
  { method: "GET", path: (t) => `/api/tenants/${t}/pipelines/demo`, viewerDenied: false },
  { method: "DELETE", path: (t) => `/api/tenants/${t}/pipelines/demo`, viewerDenied: true },
  { method: "GET", path: (t) => `/api/tenants/${t}/pipelines/demo/versions`, viewerDenied: false },
  { method: "GET", path: (t) => `/api/tenants/${t}/pipelines/demo/versions/1`, viewerDenied: false },
  { method: "POST", path: (t) => `/api/tenants/${t}/pipelines/demo/pause`, viewerDenied: true },
  { method: "POST", path: (t) => `/api/tenants/${t}/pipelines/demo/unpause`, viewerDenied: true },
];

describe("tenant isolation", () => {
  it("answers 404 for every route of a tenant the caller does not belong to", async () => {
    const victim = await ownerWithTenant();
    await victim.owner.call("PUT", `/api/tenants/${victim.slug}/pipelines/demo`, {
      raw: SPEC,
      contentType: "application/yaml",
    });
    const attacker = await ownerWithTenant();
    for (const route of ROUTES) {
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

  it("answers 403 to a viewer's writes in their own tenant", async () => {
    const { owner, slug } = await ownerWithTenant();
    await owner.call("PUT", `/api/tenants/${slug}/pipelines/demo`, {
      raw: SPEC,
      contentType: "application/yaml",
    });
    const viewer = await addMember(owner, slug, "viewer");
    for (const route of ROUTES.filter((r) => r.viewerDenied)) {
      const res = await viewer.client.json(route.method, route.path(slug), route);
      expect({ route: `${route.method} ${route.path("{t}")}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path("{t}")}`,
        status: 403,
      });
    }
    for (const route of ROUTES.filter((r) => !r.viewerDenied)) {
      const res = await viewer.client.json(route.method, route.path(slug), route);
      expect({ route: `${route.method} ${route.path("{t}")}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path("{t}")}`,
        status: 200,
      });
    }
  });
});

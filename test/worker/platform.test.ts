import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { Client, signUp } from "./helpers";

type OpenApi = { openapi: string; paths: Record<string, Record<string, { operationId?: string }>> };

describe("platform", () => {
  it("answers health with the version", async () => {
    const res = await new Client().json("GET", "/api/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it("serves OpenAPI 3.1 with an operationId on every operation and the contract's paths", async () => {
    const res = await new Client().json<OpenApi>("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const operations = Object.values(res.body.paths).flatMap((methods) => Object.values(methods));
    expect(operations.length).toBeGreaterThan(25);
    for (const op of operations) expect(op.operationId).toMatch(/^[a-zA-Z]+$/);
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        "/api/auth/sign-up/email",
        "/api/me",
        "/api/tenants/{t}/members/{user_id}",
        "/api/tenants/{t}/tokens/{id}",
        "/api/tenants/{t}/secrets/{name}",
        "/api/tenants/{t}/pipelines/{p}",
        "/api/tenants/{t}/pipelines/{p}/validate",
        "/api/invitations/{token}/accept",
      ]),
    );
  });

  it("serves the API reference page from its own assets, with no CDN", async () => {
    const res = await new Client().call("GET", "/api/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/docs-assets/swagger-ui-bundle.js");
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("serves the pipeline spec as JSON Schema", async () => {
    const res = await new Client().json<{ type?: string; properties?: Record<string, unknown> }>(
      "GET",
      "/api/schemas/pipeline.json",
    );
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.properties ?? {})).toEqual(
      expect.arrayContaining(["name", "tasks", "schedule", "triggers"]),
    );
  });

  it("publishes the public half of the signing key with a key id", async () => {
    const res = await new Client().json<{ keys: Record<string, string>[] }>("GET", "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(res.body.keys[0]?.kid).toBeTruthy();
    expect(res.body.keys[0]).not.toHaveProperty("d");
  });

  it("sweeps expired sessions and invitations on the cron tick", async () => {
    const client = await signUp();
    await env.DB.prepare("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'").run();
    const controller = createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() });
    await worker.scheduled(controller, env);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM sessions").first<{ n: number }>();
    expect(left?.n).toBe(0);
    expect((await client.call("GET", "/api/me")).status).toBe(401);
  });
});

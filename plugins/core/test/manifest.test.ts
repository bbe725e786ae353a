import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE } from "./helpers.ts";

async function manifest() {
  const response = await exports.default.fetch(`${BASE}/manifest`);
  return { response, body: await response.json<Record<string, unknown>>() };
}

describe("GET /manifest", () => {
  it("describes the core plugin at protocol 1 with every operator", async () => {
    const { response, body } = await manifest();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(body).toMatchObject({
      protocol: 1,
      name: "core",
      version: "1.1.0",
      title: "Core",
      homepage: expect.any(String),
    });
    expect(body.categories).toEqual(["core", "utility"]);
    expect(String(body.icon)).toMatch(/^data:image\/svg\+xml;base64,/);
    const operators = body.operators as Array<Record<string, unknown>>;
    expect(operators.map((op) => [op.name, op.kind, op.timeout])).toEqual([
      ["http", "action", "60s"],
      ["http-sensor", "sensor", "60s"],
      ["transform", "action", "10s"],
      ["noop", "action", "10s"],
      ["sleep", "sensor", "10s"],
      ["fail", "action", "10s"],
    ]);
  });

  it("publishes JSON Schema 2020-12 for inputs and outputs, with defaults and closed objects", async () => {
    const { body } = await manifest();
    const [http] = body.operators as Array<{
      input: Record<string, unknown>;
      output: Record<string, unknown>;
    }>;
    expect(http?.input).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: ["url"],
      additionalProperties: false,
      properties: { method: { default: "GET" }, timeout: { default: "30s", pattern: expect.any(String) } },
    });
    expect(http?.output).toMatchObject({ type: "object", required: ["status", "headers", "body"] });
  });

  it("marks only the transform operator as needing the run context", async () => {
    const { body } = await manifest();
    const withContext = (body.operators as Array<{ name: string; context?: boolean }>).filter(
      (op) => op.context,
    );
    expect(withContext.map((op) => op.name)).toEqual(["transform"]);
  });

  it("declares no connection settings as an empty closed object", async () => {
    const { body } = await manifest();
    expect(body.connection).toMatchObject({ type: "object", properties: {}, additionalProperties: false });
  });

  it("answers 405 to a POST and 404 to paths outside the protocol", async () => {
    const post = await exports.default.fetch(`${BASE}/manifest`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const unknown = await exports.default.fetch(`${BASE}/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ status: "failure", retryable: false, code: "not_found" });
  });
});

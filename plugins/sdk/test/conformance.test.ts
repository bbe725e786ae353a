/** The conformance kit's sample inputs, its judgement of results, and its per-operator checks. */
import { Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { runConformance } from "../src/conformance.ts";
import { judgeResult } from "../src/conformance-answers.ts";
import { sampleInput } from "../src/conformance-manifest.ts";
import { handlePluginRequest, signInvocation, verifySignature } from "../src/index.ts";
import { keyRingFor } from "../src/keys.ts";
import { hello, keys } from "./fixtures.ts";

/** Whether an independent JSON Schema validator accepts `value`. */
const valid = (schema: Record<string, unknown>, value: unknown) =>
  new Validator(schema as never, "2020-12").validate(value).valid;

describe("sampleInput", () => {
  it("builds an input every operator of an SDK plugin accepts, by its own zod schema", () => {
    for (const op of hello.manifest.operators) {
      const sample = sampleInput(op.input);
      expect(valid(op.input, sample), op.name).toBe(true);
      expect(hello.operator(op.name)?.input.safeParse(sample).success, op.name).toBe(true);
    }
  });

  it("takes the schema's first example when it has one", () => {
    const schema = { type: "object", examples: [{ to: "ops" }, { to: "dev" }], required: ["channel"] };
    expect(sampleInput(schema)).toEqual({ to: "ops" });
  });

  it("fills every required property from const, default, enum, examples or its type, and nothing else", () => {
    const schema = {
      type: "object",
      properties: {
        kind: { const: "page" },
        level: { type: "string", default: "info" },
        method: { type: "string", enum: ["POST", "PUT"] },
        channel: { type: "string", examples: ["#ops"] },
        count: { type: "integer", minimum: 3, maximum: 9 },
        ratio: { type: "number", exclusiveMinimum: 0.5 },
        dry_run: { type: "boolean" },
        url: { type: "string", format: "uri" },
        at: { type: "string", format: "date-time" },
        every: { type: "string", pattern: "^\\d+(ms|s|m|h)$" },
        code: { type: "string", minLength: 10 },
        tags: { type: "array", items: { type: "string" }, minItems: 2 },
        target: {
          type: "object",
          properties: { id: { type: ["string", "null"] }, note: { type: "string" } },
          required: ["id"],
        },
        optional: { type: "string" },
      },
      required: [
        "kind",
        "level",
        "method",
        "channel",
        "count",
        "ratio",
        "dry_run",
        "url",
        "at",
        "every",
        "code",
        "tags",
        "target",
      ],
      additionalProperties: false,
    };
    const sample = sampleInput(schema);
    expect(sample).toEqual({
      kind: "page",
      level: "info",
      method: "POST",
      channel: "#ops",
      count: 3,
      ratio: 1.5,
      dry_run: false,
      url: "https://example.invalid/",
      at: "2026-01-01T00:00:00Z",
      every: "1s",
      code: "samplexxxx",
      tags: ["sample", "sample"],
      target: { id: "sample" },
    });
    expect(valid(schema, sample)).toBe(true);
  });

  it("follows local $refs and the first branch of anyOf, and stops at a bounded depth", () => {
    const recursive = {
      type: "object",
      properties: { tree: { $ref: "#/$defs/node" } },
      required: ["tree"],
      $defs: {
        node: {
          type: "object",
          properties: { child: { anyOf: [{ $ref: "#/$defs/node" }, { type: "null" }] } },
          required: ["child"],
        },
      },
    };
    const sample = sampleInput(recursive);
    expect(JSON.stringify(sample)).toMatch(/^(\{"tree":)(\{"child":)+null\}+$/);
    expect(JSON.stringify(sample).split("child").length - 1).toBeLessThanOrEqual(8);
  });

  it("answers an empty object for a schema with nothing required", () => {
    expect(sampleInput({ type: "object", properties: { text: { type: "string" } } })).toEqual({});
    expect(sampleInput({})).toEqual({});
  });
});

describe("judgeResult", () => {
  const answer = (status: number, json: unknown) => ({ status, json, text: JSON.stringify(json) });

  it.each([
    [200, { status: "success", output: { id: 1 } }, "200 success"],
    [
      200,
      { status: "failure", error: "no such record", retryable: false },
      "200 failure (not retryable): no such record",
    ],
    [200, { status: "waiting", retry_after_ms: 1000 }, "200 waiting 1000 ms"],
    [202, { status: "running" }, "202 running"],
    [
      503,
      { status: "failure", error: "slow down", retryable: true, retry_after_ms: 2000 },
      "503 failure (retryable): slow down",
    ],
    [
      429,
      { status: "failure", error: "rate limited", retryable: true },
      "429 failure (retryable): rate limited",
    ],
  ])("accepts %i %j", (status, json, detail) => {
    expect(judgeResult(answer(status, json))).toEqual({ ok: true, detail });
  });

  it.each([
    [202, { status: "success", output: {} }, "202 success — expected"],
    [200, { status: "running" }, "200 running — expected"],
    [
      503,
      { status: "failure", error: "down", retryable: false },
      "503 failure (not retryable): down — expected",
    ],
    [
      401,
      { status: "failure", error: "nope", retryable: false, code: "bad_signature" },
      "401 failure (not retryable bad_signature)",
    ],
    [200, { status: "done" }, "200 with a body that is not a protocol result: status:"],
    [200, { status: "waiting" }, "200 with a body that is not a protocol result: retry_after_ms:"],
  ])("refuses %i %j, saying why", (status, json, detail) => {
    const verdict = judgeResult(answer(status, json));
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toContain(detail);
  });

  it("refuses a body that is not JSON, quoting its start", () => {
    expect(judgeResult({ status: 200, json: undefined, text: "<html>oops</html>" })).toEqual({
      ok: false,
      detail: "200 with a body that is not JSON: <html>oops</html>",
    });
  });
});

describe("runConformance, operator by operator", () => {
  const host = {
    env: { UPDRAFT_JWKS: JSON.stringify(keys.jwks) },
    waitUntil: () => {},
    // Background operators deliver their callbacks to this stand-in for the platform.
    platformFetch: async () => new Response(null, { status: 204 }),
  };
  const inProcess = (request: Request) => handlePluginRequest(hello, request, host);

  it("calls every operator of an SDK plugin and says what each answered", async () => {
    const results = await runConformance("https://hello.plugin", {
      privateJwk: keys.privateJwk,
      fetch: inProcess,
    });
    const samples = results.filter((r) => r.check.startsWith("operator "));
    expect(samples).toEqual([
      { check: "operator greet answers a sample call", status: "passed", detail: "200 success" },
      {
        check: "operator outcome answers a sample call",
        status: "passed",
        detail: "200 failure (not retryable): the record does not exist",
      },
      { check: "operator ready answers a sample call", status: "passed", detail: "200 success" },
      { check: "operator report answers a sample call", status: "passed", detail: "202 running" },
      { check: "operator whoami answers a sample call", status: "passed", detail: "200 success" },
    ]);
    expect(results.filter((r) => r.status !== "passed")).toEqual([]);
  });

  it("fails an operator whose answer is not a protocol result, and only that one", async () => {
    // The plugin, except that `report` answers 200 to its sample call and `whoami` a body of its own.
    const broken = async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path === "/operators/whoami") return Response.json({ workspace: "main" });
      const response = await inProcess(request);
      if (path !== "/operators/report") return response;
      return new Response(await response.text(), { status: 200, headers: response.headers });
    };
    const results = await runConformance("https://hello.plugin", {
      privateJwk: keys.privateJwk,
      fetch: broken,
    });
    const failed = results.filter((r) => r.status === "failed");
    expect(failed).toEqual([
      {
        check: "operator report answers a sample call",
        status: "failed",
        detail:
          "200 running — expected 200 success/failure/waiting, 202 running or 429/503 retryable failure",
      },
      {
        check: "operator whoami answers a sample call",
        status: "failed",
        detail:
          "200 with a body that is not a protocol result: status: Invalid discriminator value. Expected 'success' | 'failure' | 'waiting' | 'running'",
      },
    ]);
  });

  it("fails the recipient and replay checks against a plugin that checks signatures only", async () => {
    // Verifies the signature, then hands the SDK the body without `plugin`, signed anew with a fresh
    // webhook-id: what a plugin that checks signatures and nothing else would act on.
    const careless = async (request: Request) => {
      if (request.method !== "POST") return inProcess(request);
      const bytes = new Uint8Array(await request.arrayBuffer());
      const verdict = await verifySignature(request.headers, bytes, keyRingFor(host.env, fetch));
      if (!verdict.ok)
        return inProcess(new Request(request.url, { method: "POST", headers: request.headers, body: bytes }));
      const { plugin: _ignored, ...rest } = JSON.parse(new TextDecoder().decode(bytes)) as Record<
        string,
        unknown
      >;
      const body = JSON.stringify(rest);
      const headers = await signInvocation({ privateJwk: keys.privateJwk, body });
      return inProcess(new Request(request.url, { method: "POST", headers, body }));
    };
    const results = await runConformance("https://hello.plugin", {
      privateJwk: keys.privateJwk,
      fetch: careless,
    });
    expect(results.filter((r) => r.status === "failed")).toEqual([
      {
        check: "a request addressed to another plugin is refused with 401",
        status: "failed",
        detail: "answered 200 failure",
      },
      {
        check: "a replayed request is refused with 401",
        status: "failed",
        detail: "the first answered 200, the repeat 200",
      },
    ]);
  });
});

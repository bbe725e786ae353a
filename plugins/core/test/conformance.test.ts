import { env, exports } from "cloudflare:workers";
import { runConformance } from "@updraft/plugin-sdk/conformance";
import { describe, expect, it } from "vitest";
import { core } from "../src/plugin.ts";
import { BASE } from "./helpers.ts";

const fetchWorker = (request: Request) => exports.default.fetch(request);

describe("SDK conformance check against the core Worker", () => {
  it("passes every check with the trusted key, every operator included", async () => {
    const results = await runConformance(BASE, { privateJwk: env.TEST_SIGNING_JWK, fetch: fetchWorker });
    expect(results.map((r) => r.check)).toEqual([
      "manifest is valid protocol 1",
      "unsigned request is refused with 401",
      "stale timestamp is refused with 401",
      "tampered body is refused with 401",
      "a request addressed to another plugin is refused with 401",
      "a replayed request is refused with 401",
      "malformed invocation is refused with 4xx (not 401)",
      "input violating the schema fails without retry",
      ...core.manifest.operators.map((op) => `operator ${op.name} answers a sample call`),
      "connection test answers {ok, detail}",
    ]);
    expect(results.filter((r) => r.status !== "passed")).toEqual([]);
  });

  it("reports the checks that need a trusted key as failed when run with a stranger's key", async () => {
    const results = await runConformance(BASE, { privateJwk: env.TEST_STRANGER_JWK, fetch: fetchWorker });
    const failed = results.filter((r) => r.status !== "passed").map((r) => r.check);
    expect(failed).toEqual([
      "a replayed request is refused with 401",
      "malformed invocation is refused with 4xx (not 401)",
      "input violating the schema fails without retry",
      ...core.manifest.operators.map((op) => `operator ${op.name} answers a sample call`),
      "connection test answers {ok, detail}",
    ]);
  });
});

/** Ugly input: every case is a 4xx problem+json with a clear detail, and nothing changes. */
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Client, expectProblem, ORIGIN, ownerWithTenant, signUp } from "./helpers";

async function countRows(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("bad input", () => {
  it("answers 400 for malformed JSON", async () => {
    const { owner } = await ownerWithTenant();
    const res = await owner.json("POST", "/api/tenants", { raw: "{not json" });
    expect(expectProblem(res, 400).detail).toMatch(/JSON/);
  });

  it("answers 400 for a body that is not valid UTF-8, and creates nothing", async () => {
    const { owner } = await ownerWithTenant();
    const tenants = await countRows("tenants");
    const prefix = new TextEncoder().encode('{"slug":"garbled","name":"');
    const suffix = new TextEncoder().encode('"}');
    for (const bad of [[0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80], [0x80]]) {
      const raw = new Uint8Array([...prefix, ...bad, ...suffix]);
      const problem = expectProblem(await owner.json("POST", "/api/tenants", { raw }), 400);
      expect(problem.detail).toMatch(/UTF-8/);
    }
    const spec = new Uint8Array([...new TextEncoder().encode("name: x\ntasks: []\n# "), 0xff]);
    const yaml = await owner.json("PUT", "/api/tenants/nobody/pipelines/p", {
      raw: spec,
      contentType: "application/yaml",
    });
    expect(expectProblem(yaml, 400).detail).toMatch(/UTF-8/);
    expect(await countRows("tenants")).toBe(tenants);
    // Valid multi-byte text is kept as sent.
    const ok = await owner.json("POST", "/api/tenants", { body: { slug: "umlaut", name: "Zürich 🚀" } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ name: "Zürich 🚀" });
  });

  it("answers 415 for a body that is not JSON", async () => {
    const { owner } = await ownerWithTenant();
    expectProblem(
      await owner.json("POST", "/api/tenants", {
        raw: "slug=x",
        contentType: "application/x-www-form-urlencoded",
      }),
      415,
    );
  });

  it("answers 422 with paths for wrong types and unknown fields", async () => {
    const { owner } = await ownerWithTenant();
    const problem = expectProblem(
      await owner.json("POST", "/api/tenants", { body: { slug: 42, name: "x", plan: "enterprise" } }),
      422,
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(["slug"]));
    expect(JSON.stringify(problem.errors)).toMatch(/plan/);
  });

  it("answers 413 for a body over 1 MiB and stores nothing", async () => {
    const { owner, slug } = await ownerWithTenant();
    const before = await countRows("secrets");
    const res = await owner.json("PUT", `/api/tenants/${slug}/secrets/BIG`, {
      raw: JSON.stringify({ value: "x".repeat(1024 * 1024 + 10) }),
    });
    expectProblem(res, 413);
    expect(await countRows("secrets")).toBe(before);
  });

  it("answers 404 problem+json for unknown routes", async () => {
    const res = await new Client().json("GET", "/api/nope");
    expectProblem(res, 404);
    expectProblem(await new Client().json("POST", "/api/tenants/x/unknown-thing"), 404);
  });

  it("answers 405 with Allow for a known route asked with another verb", async () => {
    const { owner, slug } = await ownerWithTenant();
    const res = await owner.json("PATCH", `/api/tenants/${slug}/secrets`);
    expectProblem(res, 405);
    expect(res.headers.get("allow")).toBe("GET");
    const health = await new Client().json("DELETE", "/api/health");
    expectProblem(health, 405);
  });

  it("refuses a cross-site cookie write with 403 and changes nothing", async () => {
    const client = await signUp();
    const before = await countRows("tenants");
    const foreign = await client.json("POST", "/api/tenants", {
      body: { slug: "csrf-victim", name: "x" },
      headers: { origin: "https://evil.example" },
    });
    expectProblem(foreign, 403);
    const crossSite = await client.json("POST", "/api/tenants", {
      body: { slug: "csrf-victim", name: "x" },
      headers: { origin: ORIGIN, "sec-fetch-site": "cross-site" },
    });
    expectProblem(crossSite, 403);
    expect(await countRows("tenants")).toBe(before);
  });

  it("refuses a cookie write with an empty Origin header", async () => {
    const client = await signUp();
    const res = await client.call("POST", "/api/tenants", {
      body: { slug: "no-origin", name: "x" },
      headers: { origin: "" },
    });
    // An empty Origin is not ours either.
    expect(res.status).toBe(403);
  });

  it("refuses a cookie write with no Origin header at all, and takes a token write without one", async () => {
    const client = await signUp();
    const before = await countRows("tenants");
    // Client.call adds our Origin to cookie writes; this request is built by hand to carry none.
    const bare = await exports.default.fetch(
      new Request(`${ORIGIN}/api/tenants`, {
        method: "POST",
        headers: { cookie: client.cookie ?? "", "content-type": "application/json" },
        body: JSON.stringify({ slug: "no-origin-at-all", name: "x" }),
      }),
    );
    expect(bare.status).toBe(403);
    expect(((await bare.json()) as { detail: string }).detail).toMatch(/must carry an Origin header/);
    expect(await countRows("tenants")).toBe(before);
    const { owner, slug } = await ownerWithTenant();
    const token = await owner.json<{ token: string }>("POST", `/api/tenants/${slug}/tokens`, {
      body: { name: "ci", role: "admin" },
    });
    const withToken = await exports.default.fetch(
      new Request(`${ORIGIN}/api/tenants/${slug}/secrets/NO_ORIGIN`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token.body.token}`, "content-type": "application/json" },
        body: JSON.stringify({ value: "v" }),
      }),
    );
    expect(withToken.status).toBe(204);
  });

  it("never answers 5xx for arbitrary JSON bodies on the write routes", async () => {
    const { owner, slug } = await ownerWithTenant();
    const paths = [
      ["POST", "/api/auth/sign-up/email"],
      ["POST", "/api/auth/sign-in/email"],
      ["POST", "/api/tenants"],
      ["POST", `/api/tenants/${slug}/invitations`],
      ["POST", `/api/tenants/${slug}/tokens`],
      ["PUT", `/api/tenants/${slug}/secrets/FUZZ`],
      ["PATCH", `/api/tenants/${slug}/members/usr_nobody`],
    ] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.jsonValue(), async ([method, path], body) => {
        const res = await owner.call(method, path, { raw: JSON.stringify(body) });
        await res.body?.cancel();
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it("never answers 5xx for arbitrary specs, as YAML or JSON", async () => {
    const { owner, slug } = await ownerWithTenant();
    const taskish = fc.record(
      {
        id: fc.oneof(fc.constantFrom("a", "b", "c"), fc.string()),
        uses: fc.oneof(fc.constant("core/noop@^1"), fc.string()),
        needs: fc.array(fc.constantFrom("a", "b", "c", "zz")),
        with: fc.dictionary(
          fc.string(),
          fc.oneof(fc.string(), fc.constant("{{ tasks.a.output }}"), fc.jsonValue()),
        ),
      },
      { requiredKeys: [] },
    );
    const specish = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { name: fc.oneof(fc.string(), fc.integer()), tasks: fc.array(taskish, { maxLength: 4 }) },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(specish, fc.boolean(), fc.string(), async (spec, asYaml, garbage) => {
        const raw = asYaml ? `${garbage}\n${JSON.stringify(spec)}` : JSON.stringify(spec);
        const contentType = asYaml ? "application/yaml" : "application/json";
        for (const path of [
          `/api/tenants/${slug}/pipelines/fuzz`,
          `/api/tenants/${slug}/pipelines/fuzz/validate`,
        ]) {
          const res = await owner.call(path.endsWith("validate") ? "POST" : "PUT", path, {
            raw,
            contentType,
          });
          await res.body?.cancel();
          expect(res.status).toBeLessThan(500);
        }
      }),
      { numRuns: 40 },
    );
  });
});

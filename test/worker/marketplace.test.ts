import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { publicationUrl } from "../../worker/marketplace/manifest-reader";
import { latestOf } from "../../worker/marketplace/registry";
import { type Client, expectProblem, ownerWithTenant, tokenFor } from "./helpers";

const base = (kind: string, name: string, version = "1.0.0") =>
  `http://127.0.0.1:${inject("manifestPort")}/${kind}/${name}/${version}`;
let n = 0;
const uniqueName = (label = "acme") => `${label}-${Date.now().toString(36)}-${++n}`;

type Summary = {
  name: string;
  latest_version: string;
  publisher: string;
  visibility: string;
  categories: string[];
};

async function publish(client: Client, slug: string, url: string, visibility?: "public" | "private") {
  return client.json<{ name: string; version: string; unchanged: boolean }>(
    "POST",
    `/api/tenants/${slug}/publications`,
    {
      body: { url, ...(visibility ? { visibility } : {}) },
    },
  );
}

async function names(client: Client, query = ""): Promise<string[]> {
  const list = await client.json<{ items: Summary[] }>("GET", `/api/marketplace/plugins${query}`);
  expect(list.status).toBe(200);
  return list.body.items.map((i) => i.name);
}

describe("marketplace: first-party plugins", () => {
  it("lists core, published by the platform from its own manifest, with its operators' schemas", async () => {
    const { owner } = await ownerWithTenant();
    const page = await owner.json<
      Summary & {
        versions: { version: string }[];
        manifest: { operators: { name: string; input: unknown }[] };
      }
    >("GET", "/api/marketplace/plugins/core");
    expect(page.status).toBe(200);
    expect(page.body.publisher).toBe("updraft");
    expect(page.body.visibility).toBe("public");
    expect(page.body.manifest.operators.map((o) => o.name)).toContain("http");
    expect(page.body.manifest.operators.find((o) => o.name === "http")?.input).toMatchObject({
      type: "object",
    });
    const row = await env.DB.prepare(
      "SELECT binding, base_url FROM plugin_versions WHERE plugin = 'core'",
    ).first();
    expect(row).toEqual({ binding: "PLUGIN_CORE", base_url: null });
  });
});

describe("marketplace: publishing by URL", () => {
  it("publishes a version, keeps it private to the tenant, and answers a re-publication of it as unchanged", async () => {
    const { owner, slug } = await ownerWithTenant();
    const other = await ownerWithTenant();
    const name = uniqueName();
    const first = await publish(owner, slug, base("good", name));
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ name, version: "1.0.0", unchanged: false });
    expect(await names(owner, `?q=${name}`)).toEqual([name]);
    expect(await names(other.owner, `?q=${name}`)).toEqual([]);
    expectProblem(await other.owner.json("GET", `/api/marketplace/plugins/${name}`), 404);
    expectProblem(await other.owner.json("GET", `/api/marketplace/plugins/${name}/versions/1.0.0`), 404);
    const again = await publish(owner, slug, base("good", name));
    expect(again.status).toBe(200);
    expect(again.body.unchanged).toBe(true);
    const version = await owner.json<{ manifest: { name: string } }>(
      "GET",
      `/api/marketplace/plugins/${name}/versions/1.0.0`,
    );
    expect(version.body.manifest.name).toBe(name);
    const audit = await owner.json<{ items: { action: string; target: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    expect(audit.body.items.filter((i) => i.action === "plugin.published").map((i) => i.target)).toEqual([
      `${name}@1.0.0`,
    ]);
  });

  it("refuses a different manifest under a published version (409) and changes nothing", async () => {
    const { owner, slug } = await ownerWithTenant();
    const name = uniqueName();
    expect((await publish(owner, slug, base("good", name))).status).toBe(201);
    const changed = expectProblem(await publish(owner, slug, base("changed", name)), 409);
    expect(changed.detail).toContain("immutable");
    const page = await owner.json<{ description: string }>("GET", `/api/marketplace/plugins/${name}`);
    expect(page.body.description).toBe(`Does ${name} things.`);
  });

  it("shows the highest release as latest; a prerelease does not replace it", async () => {
    const { owner, slug } = await ownerWithTenant();
    const name = uniqueName();
    for (const version of ["1.2.0", "1.10.0", "2.0.0-beta.1", "1.9.9"]) {
      expect((await publish(owner, slug, base("good", name, version))).status).toBe(201);
    }
    const page = await owner.json<{ latest_version: string; versions: { version: string }[] }>(
      "GET",
      `/api/marketplace/plugins/${name}`,
    );
    expect(page.body.latest_version).toBe("1.10.0");
    expect(page.body.versions.map((v) => v.version)).toEqual(["2.0.0-beta.1", "1.10.0", "1.9.9", "1.2.0"]);
    expect(latestOf(["1.0.0-rc.1", "0.9.0-rc.2"])).toBe("1.0.0-rc.1");
  });

  it("keeps a name with its publisher: another tenant cannot publish under it, even public", async () => {
    const first = await ownerWithTenant();
    const second = await ownerWithTenant();
    const name = uniqueName();
    expect((await publish(first.owner, first.slug, base("good", name), "public")).status).toBe(201);
    expect(await names(second.owner, `?q=${name}`)).toEqual([name]);
    const taken = expectProblem(
      await publish(second.owner, second.slug, base("good", name, "9.9.9"), "public"),
      409,
    );
    expect(taken.detail).toContain("another publisher");
    const page = await second.owner.json<{ publisher: string; latest_version: string }>(
      "GET",
      `/api/marketplace/plugins/${name}`,
    );
    expect(page.body).toMatchObject({ publisher: first.slug, latest_version: "1.0.0" });
  });

  it("searches by text and category, with LIKE wildcards taken literally", async () => {
    const { owner, slug } = await ownerWithTenant();
    const name = uniqueName("searchable");
    await publish(owner, slug, base("good", name));
    expect(await names(owner, `?q=${name.toUpperCase()}`)).toEqual([name]);
    expect(await names(owner, `?q=${name}&category=testing`)).toEqual([name]);
    expect(await names(owner, `?q=${name}&category=other`)).toEqual([]);
    expect(await names(owner, "?q=%25%25%25zz")).toEqual([]);
    expect(await names(owner, "?q=_")).not.toContain("core");
  });

  it("lets admins publish, not editors or viewers, and answers another tenant's slug 404", async () => {
    const { owner, slug } = await ownerWithTenant();
    const name = uniqueName();
    for (const role of ["editor", "viewer"] as const) {
      expectProblem(await publish(await tokenFor(owner, slug, role), slug, base("good", name)), 403);
    }
    expect((await publish(await tokenFor(owner, slug, "admin"), slug, base("good", name))).status).toBe(201);
    const stranger = await ownerWithTenant();
    expectProblem(await publish(stranger.owner, slug, base("good", uniqueName())), 404);
  });
});

describe("marketplace: who publishes", () => {
  it("keeps the platform's publisher name for the platform", async () => {
    const { owner } = await ownerWithTenant();
    const taken = expectProblem(
      await owner.json("POST", "/api/tenants", { body: { slug: "updraft", name: "Not us" } }),
      422,
    );
    expect(taken.errors?.[0]?.path).toBe("slug");
  });

  it("refuses to delete a publisher while another tenant has one of its plugins installed", async () => {
    const publisher = await ownerWithTenant();
    const name = uniqueName();
    await publish(publisher.owner, publisher.slug, base("good", name), "public");
    const user = await ownerWithTenant();
    const installed = await user.owner.json<{ id: string }>(
      "POST",
      `/api/tenants/${user.slug}/installations`,
      {
        body: { plugin: name, config: { api_key: "k" } },
      },
    );
    const refused = expectProblem(
      await publisher.owner.json("DELETE", `/api/tenants/${publisher.slug}`),
      409,
    );
    expect(refused.detail).toContain(name);
    expect(
      (await user.owner.call("DELETE", `/api/tenants/${user.slug}/installations/${installed.body.id}`))
        .status,
    ).toBe(204);
    expect((await publisher.owner.call("DELETE", `/api/tenants/${publisher.slug}`)).status).toBe(204);
    expect(await names(user.owner, `?q=${name}`)).toEqual([]);
  });
});

describe("marketplace: bad publications are a 422 with a clear detail, and publish nothing", () => {
  const cases: Array<[string, string, RegExp, string?]> = [
    ["an invalid envelope", "invalid", /not valid/, "manifest.name"],
    ["a version that is not semver", "bad-version", /not valid/, "manifest.version"],
    ["a version that is not canonical semver", "v-version", /not valid/, "manifest.version"],
    [
      "a secret field that is not top-level",
      "nested-secret",
      /not valid/,
      "manifest.connection.properties.auth.properties.token.writeOnly",
    ],
    ["a manifest nested 100 levels deep", "deep", /not valid/, "manifest"],
    ["a connection schema that does not compile", "bad-schema", /not valid/, "manifest.connection.type"],
    ["a regular expression that could backtrack", "unsafe-regex", /not valid/, "manifest.connection.pattern"],
    ["a redirect (here to a private address)", "redirect", /redirect \(302 to http:\/\/10\.0\.0\.1/],
    ["an HTML page", "html", /did not answer JSON/],
    ["a 2 MiB body", "huge", /larger than 262144 bytes/],
    ["a 404", "missing", /answered 404/],
  ];
  for (const [what, kind, detail, path] of cases) {
    it(`refuses ${what}`, async () => {
      const { owner, slug } = await ownerWithTenant();
      const name = uniqueName();
      const problem = expectProblem(await publish(owner, slug, base(kind, name)), 422);
      expect(problem.detail).toMatch(detail);
      if (path) expect(problem.errors?.map((e) => e.path)).toContain(path);
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM plugins WHERE name = ?").bind(name).first();
      expect(row?.n).toBe(0);
    });
  }

  it("gives up on a server that never answers", { timeout: 15_000 }, async () => {
    const { owner, slug } = await ownerWithTenant();
    const problem = expectProblem(await publish(owner, slug, base("hang", uniqueName())), 422);
    expect(problem.detail).toContain("no answer within 5000 ms");
  });

  it("refuses unreachable, malformed and credential-carrying URLs", async () => {
    const { owner, slug } = await ownerWithTenant();
    expectProblem(await publish(owner, slug, "http://127.0.0.1:1/plugin"), 422);
    for (const url of [
      "not a url",
      "ftp://example.com/p",
      "https://user:pw@example.com/p",
      "https://example.com/p?x=1",
    ]) {
      const problem = expectProblem(await publish(owner, slug, url), 422);
      expect(problem.errors?.[0]?.path).toBe("url");
    }
    expectProblem(
      await owner.json("POST", `/api/tenants/${slug}/publications`, {
        body: { url: "https://x.example", extra: 1 },
      }),
      422,
    );
  });

  it("keeps publication URLs off private networks and plain HTTP in production", () => {
    const production = { ...env, UPDRAFT_ALLOW_PRIVATE_NETWORK: "false" } as Env;
    for (const url of [
      "http://plugins.example.com",
      "https://127.0.0.1",
      "https://10.1.2.3/p",
      "https://localhost",
      "https://[::1]",
      "https://metadata.google.internal",
    ]) {
      expect(publicationUrl(url, production).ok).toBe(false);
    }
    expect(publicationUrl("https://plugins.example.com/acme/", production)).toEqual({
      ok: true,
      base: "https://plugins.example.com/acme",
    });
  });
});

/**
 * A publisher turns its plugin public or private without a new version (PATCH …/plugins/{name},
 * worker/marketplace/visibility.ts). Tenants that installed it keep it working; everyone else finds it
 * as if it did not exist.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { type Client, expectProblem, ownerWithTenant, tokenFor } from "./helpers";
import type { RecordedCall } from "./manifest-server";
import { type Detail, pipelineStub, savePipeline, task } from "./runs-helpers";

const server = () => `http://127.0.0.1:${inject("manifestPort")}`;
const base = (name: string, version = "1.0.0") => `${server()}/good/${name}/${version}`;
let n = 0;
const uniqueName = () => `shown-${Date.now().toString(36)}-${++n}`;

type Installed = {
  id: string;
  name: string;
  plugin: string;
  version: string;
  config: Record<string, unknown>;
};

/** A tenant that published `name` at these versions, public. */
async function publisher(versions = ["1.0.0"]) {
  const { owner, slug } = await ownerWithTenant();
  const name = uniqueName();
  for (const version of versions) {
    const res = await owner.json("POST", `/api/tenants/${slug}/publications`, {
      body: { url: base(name, version), visibility: "public" },
    });
    if (res.status !== 201) throw new Error(`publish: ${JSON.stringify(res.body)}`);
  }
  return { owner, slug, name };
}

function setVisibility(client: Client, slug: string, name: string, body: unknown) {
  return client.json<{ name: string; visibility: string; publisher: string }>(
    "PATCH",
    `/api/tenants/${slug}/plugins/${name}`,
    { body },
  );
}

function install(client: Client, slug: string, plugin: string, version?: string) {
  return client.json<Installed>("POST", `/api/tenants/${slug}/installations`, {
    body: { plugin, ...(version ? { version } : {}), config: { api_key: "good-key", region: "eu" } },
  });
}

async function auditOf(client: Client, slug: string, action: string): Promise<string[]> {
  const audit = await client.json<{ items: { action: string; target: string }[] }>(
    "GET",
    `/api/tenants/${slug}/audit`,
  );
  return audit.body.items.filter((i) => i.action === action).map((i) => i.target);
}

async function listed(client: Client, name: string): Promise<string[]> {
  const list = await client.json<{ items: { name: string }[] }>("GET", `/api/marketplace/plugins?q=${name}`);
  return list.body.items.map((i) => i.name);
}

async function testsReceived(name: string): Promise<number> {
  const calls = (await (await fetch(`${server()}/calls/${name}`)).json()) as RecordedCall[];
  return calls.filter((call) => call.path === "connection/test").length;
}

async function finishedRun(owner: Client, slug: string, pipeline: string): Promise<Detail> {
  const started = await owner.json<{ id: string }>(
    "POST",
    `/api/tenants/${slug}/pipelines/${pipeline}/runs`,
    {
      body: {},
    },
  );
  if (started.status !== 201) throw new Error(`start: ${JSON.stringify(started.body)}`);
  const stub = await pipelineStub(slug, pipeline);
  for (let i = 0; i < 100; i++) {
    await stub.settled();
    const res = await owner.json<Detail>(
      "GET",
      `/api/tenants/${slug}/pipelines/${pipeline}/runs/${started.body.id}`,
    );
    if (!["queued", "running"].includes(res.body.status)) return res.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the run did not finish");
}

describe("plugin visibility: who may change it", () => {
  it("lets the publisher's admins change it; anyone else gets 404, editors and viewers 403", async () => {
    const { owner, slug, name } = await publisher();
    const stranger = await ownerWithTenant();
    // Another tenant's admin, through its own tenant or the publisher's: the plugin is not theirs.
    expectProblem(await setVisibility(stranger.owner, stranger.slug, name, { visibility: "private" }), 404);
    expectProblem(await setVisibility(stranger.owner, slug, name, { visibility: "private" }), 404);
    expectProblem(await setVisibility(stranger.owner, slug, name, {}), 404);
    // First-party plugins are nobody's to change; an unknown name is not found either.
    expectProblem(await setVisibility(owner, slug, "core", { visibility: "private" }), 404);
    expectProblem(await setVisibility(owner, slug, uniqueName(), { visibility: "private" }), 404);
    for (const role of ["editor", "viewer"] as const) {
      const member = await tokenFor(owner, slug, role);
      expectProblem(await setVisibility(member, slug, name, { visibility: "private" }), 403);
      expectProblem(await setVisibility(member, slug, name, { visibility: "nobody" }), 403);
    }
    const admin = await tokenFor(owner, slug, "admin");
    const bad: Array<[unknown, string]> = [
      [{}, "visibility"],
      [{ visibility: "secret" }, "visibility"],
      [{ visibility: "private", title: "x" }, ""],
    ];
    for (const [body, path] of bad) {
      const invalid = expectProblem(await setVisibility(admin, slug, name, body), 422);
      expect(invalid.errors?.map((e) => e.path)).toEqual([path]);
    }
    expect(
      (await owner.json<{ visibility: string }>("GET", `/api/marketplace/plugins/${name}`)).body.visibility,
    ).toBe("public");
    const changed = await setVisibility(admin, slug, name, { visibility: "private" });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ name, visibility: "private", publisher: slug });
    expect(await auditOf(owner, slug, "plugin.visibility")).toEqual([`${name} public→private`]);
    // The same again changes nothing and is not audited twice.
    expect((await setVisibility(admin, slug, name, { visibility: "private" })).body.visibility).toBe(
      "private",
    );
    expect(await auditOf(owner, slug, "plugin.visibility")).toEqual([`${name} public→private`]);
  });
});

describe("plugin visibility: turning private", () => {
  it("keeps another tenant's installation working while a third tenant can neither see nor install it", {
    timeout: 20_000,
  }, async () => {
    const { owner, slug, name } = await publisher(["1.0.0", "1.1.0"]);
    const user = await ownerWithTenant();
    const installed = await install(user.owner, user.slug, name, "1.0.0");
    expect(installed.status).toBe(201);
    const third = await ownerWithTenant();
    expect((await setVisibility(owner, slug, name, { visibility: "private" })).status).toBe(200);

    // The user's installation: listed, readable, tested, changed, upgraded, running.
    const path = `/api/tenants/${user.slug}/installations/${installed.body.id}`;
    const list = await user.owner.json<{ items: Installed[] }>(
      "GET",
      `/api/tenants/${user.slug}/installations`,
    );
    expect(list.body.items.map((i) => i.id)).toEqual([installed.body.id]);
    expect((await user.owner.json<Installed>("GET", path)).body).toMatchObject({
      plugin: name,
      version: "1.0.0",
    });
    const before = await testsReceived(name);
    expect((await user.owner.json("POST", `${path}/test`)).body).toEqual({
      ok: true,
      detail: "authenticated as acme",
    });
    expect(await testsReceived(name)).toBe(before + 1);
    const changed = await user.owner.json<Installed>("PATCH", path, { body: { config: { region: "us" } } });
    expect(changed.status).toBe(200);
    expect(changed.body.config).toEqual({ api_key: "********", region: "us" });
    const upgraded = await user.owner.json<Installed>("PATCH", path, { body: { version: "1.1.0" } });
    expect(upgraded.body.version).toBe("1.1.0");
    expectProblem(await user.owner.json("PATCH", path, { body: { version: "9.0.0" } }), 422);
    // The dashboard reads the plugin's page and versions to change an installation: still there.
    expect((await user.owner.json("GET", `/api/marketplace/plugins/${name}`)).status).toBe(200);
    expect((await user.owner.json("GET", `/api/marketplace/plugins/${name}/versions/1.0.0`)).status).toBe(
      200,
    );
    await savePipeline(user.owner, user.slug, "uses-it", {
      name: "Uses it",
      tasks: [{ id: "a", uses: `${name}/echo@^1`, with: { text: "still here" } }],
    });
    const run = await finishedRun(user.owner, user.slug, "uses-it");
    expect(run.status).toBe("success");
    expect(task(run, "a").output).toMatchObject({ version: "1.1.0", connection: { region: "us" } });

    // A third tenant: not listed, 404 on the page and versions, no such plugin to install.
    expect(await listed(third.owner, name)).toEqual([]);
    expectProblem(await third.owner.json("GET", `/api/marketplace/plugins/${name}`), 404);
    expectProblem(await third.owner.json("GET", `/api/marketplace/plugins/${name}/versions/1.0.0`), 404);
    const refused = expectProblem(await install(third.owner, third.slug, name), 422);
    expect(refused.errors?.[0]?.path).toBe("plugin");
    expect(refused.detail).toBe(`No plugin "${name}" in the marketplace.`);

    // Uninstalling works; with nothing installed the user is a third tenant too.
    await user.owner.json("DELETE", `/api/tenants/${user.slug}/pipelines/uses-it`);
    expect((await user.owner.call("DELETE", path)).status).toBe(204);
    expectProblem(await user.owner.json("GET", `/api/marketplace/plugins/${name}`), 404);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM installations WHERE plugin = ?")
      .bind(name)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("offers it to everyone again when it turns public", async () => {
    const { owner, slug, name } = await publisher();
    const third = await ownerWithTenant();
    await setVisibility(owner, slug, name, { visibility: "private" });
    expectProblem(await third.owner.json("GET", `/api/marketplace/plugins/${name}`), 404);
    const reopened = await setVisibility(owner, slug, name, { visibility: "public" });
    expect(reopened.body.visibility).toBe("public");
    expect(await listed(third.owner, name)).toEqual([name]);
    expect((await third.owner.json("GET", `/api/marketplace/plugins/${name}`)).status).toBe(200);
    expect((await install(third.owner, third.slug, name)).status).toBe(201);
    expect(await auditOf(owner, slug, "plugin.visibility")).toEqual([
      `${name} private→public`,
      `${name} public→private`,
    ]);
  });

  it("audits a visibility changed by publishing a version, like the change by itself", async () => {
    const { owner, slug, name } = await publisher();
    const res = await owner.json("POST", `/api/tenants/${slug}/publications`, {
      body: { url: base(name, "2.0.0"), visibility: "private" },
    });
    expect(res.status).toBe(201);
    expect(await auditOf(owner, slug, "plugin.visibility")).toEqual([`${name} public→private`]);
    expect(await auditOf(owner, slug, "plugin.published")).toContain(`${name}@2.0.0`);
  });
});

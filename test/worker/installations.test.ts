import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { type Client, expectProblem, ownerWithTenant, tokenFor } from "./helpers";
import type { RecordedCall } from "./manifest-server";

const base = (name: string, version = "1.0.0") =>
  `http://127.0.0.1:${inject("manifestPort")}/good/${name}/${version}`;
let n = 0;
const uniqueName = (label = "acme") => `${label}-${Date.now().toString(36)}-${++n}`;

type Installed = {
  id: string;
  name: string;
  plugin: string;
  version: string;
  config: Record<string, unknown>;
};

/** A tenant that published `name` at these versions (private to it). */
async function publisher(versions = ["1.0.0"], label = "acme") {
  const { owner, slug } = await ownerWithTenant();
  const name = uniqueName(label);
  for (const version of versions) {
    const published = await owner.json("POST", `/api/tenants/${slug}/publications`, {
      body: { url: base(name, version) },
    });
    if (published.status !== 201) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
  }
  return { owner, slug, name };
}

function install(client: Client, slug: string, body: Record<string, unknown>) {
  return client.json<Installed>("POST", `/api/tenants/${slug}/installations`, { body });
}

async function storedRow(id: string) {
  return env.DB.prepare("SELECT config, secrets, secret_fields, version FROM installations WHERE id = ?")
    .bind(id)
    .first<{ config: string; secrets: string | null; secret_fields: string; version: string }>();
}

describe("installations", () => {
  it("installs a pinned version, seals the secret field and masks it in every answer", async () => {
    const { owner, slug, name } = await publisher();
    const created = await install(owner, slug, {
      plugin: name,
      config: { api_key: "sk-live-canary-1", region: "eu" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name,
      plugin: name,
      version: "1.0.0",
      config: { api_key: "********", region: "eu" },
    });
    const row = await storedRow(created.body.id);
    expect(row?.config).toBe('{"region":"eu"}');
    expect(row?.secrets).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain("sk-live-canary-1");
    const viewer = await tokenFor(owner, slug, "viewer");
    const listed = await viewer.json<{ items: Installed[] }>("GET", `/api/tenants/${slug}/installations`);
    expect(listed.body.items).toEqual([created.body]);
    const one = await viewer.json<Installed>("GET", `/api/tenants/${slug}/installations/${created.body.id}`);
    expect(JSON.stringify(one.body)).not.toContain("canary");
  });

  it("checks settings against the connection schema, with paths, and writes nothing", async () => {
    const { owner, slug, name } = await publisher();
    const missing = expectProblem(
      await install(owner, slug, { plugin: name, config: { region: "eu" } }),
      422,
    );
    expect(missing.errors?.map((e) => e.path)).toContain("config.api_key");
    const wrongType = expectProblem(
      await install(owner, slug, { plugin: name, config: { api_key: "k", region: 5 } }),
      422,
    );
    expect(wrongType.errors).toContainEqual({
      path: "config.region",
      message: "expected a string, got a number",
    });
    expect(
      expectProblem(await install(owner, slug, { plugin: "no-such-plugin", config: {} }), 422).errors?.[0]
        ?.path,
    ).toBe("plugin");
    expect(
      expectProblem(await install(owner, slug, { plugin: name, version: "9.9.9", config: {} }), 422)
        .errors?.[0]?.path,
    ).toBe("version");
    expect(
      expectProblem(
        await install(owner, slug, { plugin: name, name: "Bad Name", config: { api_key: "k" } }),
        422,
      ).errors?.[0]?.path,
    ).toBe("name");
    expectProblem(await install(owner, slug, { plugin: name, config: { api_key: "k" }, extra: true }), 422);
    const templated = expectProblem(
      await install(owner, slug, { plugin: name, config: { api_key: "{{ secrets.K }}" } }),
      422,
    );
    expect(templated.errors?.[0]).toEqual({
      path: "config.api_key",
      message: "settings are values, not {{ }} templates",
    });
    const shadow = expectProblem(
      await install(owner, slug, { plugin: name, name: "core", config: { api_key: "k" } }),
      422,
    );
    expect(shadow.errors?.[0]?.path).toBe("name");
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM installations WHERE plugin = ?")
      .bind(name)
      .first();
    expect(count?.n).toBe(0);
  });

  it("installs one plugin twice under two names, never twice under one", async () => {
    const { owner, slug, name } = await publisher();
    expect((await install(owner, slug, { plugin: name, config: { api_key: "a" } })).status).toBe(201);
    const again = expectProblem(await install(owner, slug, { plugin: name, config: { api_key: "b" } }), 409);
    expect(again.detail).toContain("another name");
    const second = await install(owner, slug, { plugin: name, name: `${name}-eu`, config: { api_key: "b" } });
    expect(second.status).toBe(201);
    expect(second.body.name).toBe(`${name}-eu`);
  });

  it("keeps another tenant's private plugin and installations out of reach", async () => {
    const { owner, slug, name } = await publisher();
    const created = await install(owner, slug, { plugin: name, config: { api_key: "k" } });
    const other = await ownerWithTenant();
    expect(
      expectProblem(await install(other.owner, other.slug, { plugin: name, config: { api_key: "k" } }), 422)
        .errors?.[0]?.path,
    ).toBe("plugin");
    for (const [method, path] of [
      ["GET", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["POST", "/test"],
    ] as const) {
      const res = await other.owner.json(
        method,
        `/api/tenants/${other.slug}/installations/${created.body.id}${path}`,
        method === "PATCH" ? { body: {} } : {},
      );
      expectProblem(res, 404);
    }
    expectProblem(
      await install(await tokenFor(owner, slug, "editor"), slug, { plugin: name, config: { api_key: "k" } }),
      403,
    );
  });

  it("upgrades and downgrades; a secret left out keeps its value, null clears it", async () => {
    const { owner, slug, name } = await publisher(["1.0.0", "1.1.0"]);
    const created = await install(owner, slug, {
      plugin: name,
      version: "1.0.0",
      config: { api_key: "good-key", region: "eu" },
    });
    const path = `/api/tenants/${slug}/installations/${created.body.id}`;
    const upgraded = await owner.json<Installed>("PATCH", path, { body: { version: "1.1.0" } });
    expect(upgraded.body).toMatchObject({ version: "1.1.0", config: { api_key: "********", region: "eu" } });
    const changed = await owner.json<Installed>("PATCH", path, {
      body: { config: { region: "us", api_key: "********" } },
    });
    expect(changed.body.config).toEqual({ api_key: "********", region: "us" });
    expect((await owner.json<{ ok: boolean }>("POST", `${path}/test`)).body.ok).toBe(true);
    const cleared = expectProblem(
      await owner.json("PATCH", path, { body: { config: { region: "us", api_key: null } } }),
      422,
    );
    expect(cleared.errors?.map((e) => e.path)).toContain("config.api_key");
    expect((await storedRow(created.body.id))?.version).toBe("1.1.0");
    expectProblem(await owner.json("PATCH", path, { body: { version: "3.0.0" } }), 422);
    expect((await owner.json<Installed>("PATCH", path, { body: { version: "1.0.0" } })).body.version).toBe(
      "1.0.0",
    );
  });

  it("tests the connection through the plugin's signed endpoint, masking an echoed secret", async () => {
    const { owner, slug, name } = await publisher();
    const good = await install(owner, slug, { plugin: name, config: { api_key: "good-key" } });
    const tested = await owner.json("POST", `/api/tenants/${slug}/installations/${good.body.id}/test`);
    expect(tested.body).toEqual({ ok: true, detail: "authenticated as acme" });
    const bad = await install(owner, slug, {
      plugin: name,
      name: `${name}-2`,
      config: { api_key: "sk-canary-77" },
    });
    const refused = await owner.json<{ ok: boolean; detail: string }>(
      "POST",
      `/api/tenants/${slug}/installations/${bad.body.id}/test`,
    );
    expect(refused.body).toEqual({ ok: false, detail: "the key ******** was refused" });
    // Both tests named the published plugin as the signed recipient, the one installed as `…-2` too.
    const calls = await fetch(`http://127.0.0.1:${inject("manifestPort")}/calls/${name}`);
    const recorded = (await calls.json()) as RecordedCall[];
    expect(recorded.map((call) => [call.path, call.plugin])).toEqual([
      ["connection/test", name],
      ["connection/test", name],
    ]);
  });

  it("turns a plugin answering garbage into a failed test with a reason", async () => {
    const { owner, slug, name } = await publisher(["1.0.0"], "garbage");
    const created = await install(owner, slug, { plugin: name, config: { api_key: "good-key" } });
    const tested = await owner.json<{ ok: boolean; detail: string }>(
      "POST",
      `/api/tenants/${slug}/installations/${created.body.id}/test`,
    );
    expect(tested.body.ok).toBe(false);
    expect(tested.body.detail).toContain("something other than {ok, detail}");
  });

  it("installs first-party core and tests it over its service binding", async () => {
    const { owner, slug } = await ownerWithTenant();
    await owner.json("GET", "/api/marketplace/plugins/core"); // the isolate publishes first-party plugins
    const created = await install(owner, slug, { plugin: "core", config: {} });
    expect(created.status).toBe(201);
    const tested = await owner.json<{ ok: boolean }>(
      "POST",
      `/api/tenants/${slug}/installations/${created.body.id}/test`,
    );
    expect(tested.body.ok).toBe(true);
  });

  it("refuses an upgrade the pipelines using it do not fit, naming them, until they do", async () => {
    const { owner, slug, name } = await publisher(["1.0.0", "2.0.0"]);
    const created = await install(owner, slug, { plugin: name, version: "1.0.0", config: { api_key: "k" } });
    const save = (range: string) =>
      owner.json("PUT", `/api/tenants/${slug}/pipelines/echoes`, {
        body: { name: "Echoes", tasks: [{ id: "say", uses: `${name}/echo@${range}` }] },
      });
    expect((await save("^1")).status).toBe(201);
    const path = `/api/tenants/${slug}/installations/${created.body.id}`;
    const refused = expectProblem(await owner.json("PATCH", path, { body: { version: "2.0.0" } }), 409);
    expect(refused.detail).toContain("echoes: tasks[0].uses");
    expect((await storedRow(created.body.id))?.version).toBe("1.0.0");
    // A range both versions satisfy lets the upgrade through.
    expect((await save(">=1")).status).toBe(200);
    const upgraded = await owner.json<Installed>("PATCH", path, { body: { version: "2.0.0" } });
    expect(upgraded.status).toBe(200);
    expect(upgraded.body.version).toBe("2.0.0");
  });

  it("refuses to uninstall while a pipeline's latest version uses it, then uninstalls", async () => {
    const { owner, slug, name } = await publisher();
    const created = await install(owner, slug, { plugin: name, config: { api_key: "k" } });
    const tenant = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?")
      .bind(slug)
      .first<{ id: string }>();
    // A pipeline whose latest version uses the installation (saving one through the API needs the
    // resolution of `uses` against installations, which comes next).
    const spec = JSON.stringify({ tasks: [{ id: "a", uses: `${name}/echo@^1` }] });
    const at = new Date().toISOString();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO pipelines (id, tenant_id, slug, name, paused, latest_version, schedule, created_at, updated_at) VALUES (?, ?, 'uses-it', 'Uses it', 0, 2, NULL, ?, ?)",
      ).bind(`pl_${name}`, tenant?.id, at, at),
      env.DB.prepare(
        "INSERT INTO pipeline_versions (pipeline_id, version, spec, source, format, digest, created_at, created_by) VALUES (?, 1, '{\"tasks\":[]}', '', 'json', 'd1', ?, 'test'), (?, 2, ?, '', 'json', 'd2', ?, 'test')",
      ).bind(`pl_${name}`, at, `pl_${name}`, spec, at),
    ]);
    const path = `/api/tenants/${slug}/installations/${created.body.id}`;
    const inUse = expectProblem(await owner.json("DELETE", path), 409);
    expect(inUse.detail).toContain("uses-it");
    await env.DB.prepare("UPDATE pipelines SET latest_version = 1 WHERE id = ?").bind(`pl_${name}`).run();
    expect((await owner.call("DELETE", path)).status).toBe(204);
    expectProblem(await owner.json("GET", path), 404);
    const audit = await owner.json<{ items: { action: string }[] }>("GET", `/api/tenants/${slug}/audit`);
    expect(audit.body.items.map((i) => i.action)).toEqual(
      expect.arrayContaining(["installation.created", "installation.deleted"]),
    );
  });
});

/**
 * Issue 13 §4: `uses` resolves against the tenant's installations when a spec is saved, and each run
 * pins the plugin version and connection it resolved when it started. The plugin is a real HTTP server
 * not built with our SDK (test/worker/manifest-server.ts), reached over TCP with signed requests.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { type Client, expectProblem, ownerWithTenant } from "./helpers";
import type { RecordedCall } from "./manifest-server";
import { type Detail, pipelineStub, savePipeline, task } from "./runs-helpers";

const base = (name: string, version = "1.0.0") =>
  `http://127.0.0.1:${inject("manifestPort")}/good/${name}/${version}`;

/** The signed calls the test plugin received for `name` (test/worker/manifest-server.ts records them). */
async function callsTo(name: string): Promise<RecordedCall[]> {
  const response = await fetch(`http://127.0.0.1:${inject("manifestPort")}/calls/${name}`);
  return (await response.json()) as RecordedCall[];
}
let n = 0;
const uniqueName = () => `acme-${Date.now().toString(36)}-${++n}`;

/** A tenant that published `name` at these versions and installed the first with a secret key. */
async function installed(versions = ["1.0.0"], installAs?: string) {
  const { owner, slug } = await ownerWithTenant();
  const name = uniqueName();
  for (const version of versions) {
    const res = await owner.json("POST", `/api/tenants/${slug}/publications`, {
      body: { url: base(name, version) },
    });
    if (res.status !== 201) throw new Error(`publish: ${JSON.stringify(res.body)}`);
  }
  const res = await owner.json<{ id: string; name: string }>("POST", `/api/tenants/${slug}/installations`, {
    body: {
      plugin: name,
      version: versions[0],
      ...(installAs ? { name: installAs } : {}),
      config: { api_key: "good-key", region: "eu" },
    },
  });
  if (res.status !== 201) throw new Error(`install: ${JSON.stringify(res.body)}`);
  return { owner, slug, name, uses: res.body.name, installation: res.body.id };
}

async function run(owner: Client, slug: string, pipeline: string): Promise<string> {
  const res = await owner.json<{ id: string }>("POST", `/api/tenants/${slug}/pipelines/${pipeline}/runs`, {
    body: {},
  });
  if (res.status !== 201) throw new Error(`start: ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function finished(owner: Client, slug: string, pipeline: string, id: string): Promise<Detail> {
  const stub = await pipelineStub(slug, pipeline);
  for (let i = 0; i < 100; i++) {
    await stub.settled();
    const res = await owner.json<Detail>("GET", `/api/tenants/${slug}/pipelines/${pipeline}/runs/${id}`);
    if (!["queued", "running"].includes(res.body.status)) return res.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${id} did not finish`);
}

describe("runs with installed plugins", () => {
  it("calls the installation's version over HTTP with its connection, secrets opened", async () => {
    const { owner, slug, uses } = await installed();
    await savePipeline(owner, slug, "p", {
      name: "P",
      tasks: [{ id: "a", uses: `${uses}/echo@^1`, with: { text: "hi" } }],
    });
    const detail = await finished(owner, slug, "p", await run(owner, slug, "p"));
    expect(detail.status).toBe("success");
    expect(task(detail, "a").output).toEqual({
      version: "1.0.0",
      input: { text: "hi" },
      connection: { region: "eu" },
      authenticated: true,
    });
  });

  it("resolves uses by installation name, version range and input schema when the spec is saved", async () => {
    const { owner, slug, uses } = await installed(["1.0.0"], "notes-eu");
    expect(uses).toBe("notes-eu");
    const refused = async (tasks: object[]) =>
      expectProblem(
        await owner.json("PUT", `/api/tenants/${slug}/pipelines/bad`, { body: { name: "Bad", tasks } }),
        422,
      ).errors;
    expect(await refused([{ id: "a", uses: "notes-eu/echo@^1", with: { text: 5 } }])).toMatchObject([
      { path: "tasks[0].with.text", message: "expected a string, got a number" },
    ]);
    expect(await refused([{ id: "a", uses: "notes-eu/echo@^2" }])).toMatchObject([
      {
        path: "tasks[0].uses",
        message: 'plugin "notes-eu" is at version 1.0.0, which does not satisfy "^2"',
      },
    ]);
    expect(await refused([{ id: "a", uses: "notes-us/echo@^1" }])).toMatchObject([
      { path: "tasks[0].uses", message: 'plugin "notes-us" is not installed' },
    ]);
    await savePipeline(owner, slug, "ok", {
      name: "Ok",
      tasks: [{ id: "a", uses: "notes-eu/echo@^1", with: { text: "{{ run.id }}" } }],
    });
  });

  it("names the published plugin as the signed recipient, with a fresh webhook-id on every poke", async () => {
    const { owner, slug, name, uses } = await installed(["1.0.0"], "notes-2");
    expect(uses).toBe("notes-2");
    await savePipeline(owner, slug, "poked", {
      name: "Poked",
      tasks: [{ id: "a", uses: "notes-2/echo@^1", with: { pokes: 3 } }],
    });
    const detail = await finished(owner, slug, "poked", await run(owner, slug, "poked"));
    // The plugin refuses (401) a request addressed to another plugin or a webhook-id it has seen.
    expect(detail.status).toBe("success");
    const calls = await callsTo(name);
    expect(calls.map((call) => [call.path, call.plugin])).toEqual(Array(3).fill(["operators/echo", name]));
    expect(new Set(calls.map((call) => call.webhook_id)).size).toBe(3);
  });

  it("keeps runs under way on the version they started with when the installation is upgraded", {
    timeout: 60_000,
  }, async () => {
    const { owner, slug, uses, installation } = await installed(["1.0.0", "1.1.0"]);
    await savePipeline(owner, slug, "slow", {
      name: "Slow",
      concurrency: { max_active_runs: 50 },
      tasks: [{ id: "a", uses: `${uses}/echo@^1`, with: { wait_ms: 800 } }],
    });
    const started = await Promise.all(Array.from({ length: 20 }, () => run(owner, slug, "slow")));
    const upgraded = await owner.json("PATCH", `/api/tenants/${slug}/installations/${installation}`, {
      body: { version: "1.1.0" },
    });
    expect(upgraded.status).toBe(200);
    const after = await run(owner, slug, "slow");
    const details = await Promise.all([...started, after].map((id) => finished(owner, slug, "slow", id)));
    const versions = details.map((d) => (task(d, "a").output as { version: string }).version);
    expect(versions.slice(0, 20)).toEqual(Array(20).fill("1.0.0"));
    expect(versions[20]).toBe("1.1.0");
  });

  it("keeps the operator timeouts a run started with for tasks dispatched after an upgrade", {
    timeout: 60_000,
  }, async () => {
    const { owner, slug, uses, installation } = await installed(["1.0.0", "1.2.0"]);
    await savePipeline(owner, slug, "two-steps", {
      name: "Two steps",
      tasks: [
        { id: "a", uses: `${uses}/echo@^1`, with: { wait_ms: 300 } },
        // Longer than 1.2.0's 500ms operator timeout, well within 1.0.0's 30s.
        { id: "b", uses: `${uses}/echo@^1`, needs: ["a"], with: { wait_ms: 1500 } },
      ],
    });
    const before = await run(owner, slug, "two-steps");
    const upgraded = await owner.json("PATCH", `/api/tenants/${slug}/installations/${installation}`, {
      body: { version: "1.2.0" },
    });
    expect(upgraded.status).toBe(200);
    const after = await run(owner, slug, "two-steps");
    const old = await finished(owner, slug, "two-steps", before);
    const fresh = await finished(owner, slug, "two-steps", after);
    expect(task(old, "b")).toMatchObject({ status: "success", output: { version: "1.0.0" } });
    expect(task(fresh, "b")).toMatchObject({ status: "failed", error: { kind: "timeout" } });
  });

  it("never keeps a connection's secret in a run, whatever the plugin sends back", async () => {
    const { owner, slug, uses } = await installed();
    await savePipeline(owner, slug, "leaky", {
      name: "Leaky",
      tasks: [{ id: "a", uses: `${uses}/leak@^1` }],
    });
    const id = await run(owner, slug, "leaky");
    const detail = await finished(owner, slug, "leaky", id);
    expect(JSON.stringify(detail)).not.toContain("good-key");
    const logs = await owner.json("GET", `/api/tenants/${slug}/pipelines/leaky/runs/${id}/tasks/a/logs`);
    expect(JSON.stringify(logs.body)).toContain("calling with ***");
    expect(JSON.stringify(logs.body)).not.toContain("good-key");
  });

  it("never keeps a connection's secret that a long-running operator sends back by callback", async () => {
    const { owner, slug, name, uses } = await installed();
    await savePipeline(owner, slug, "leaky-later", {
      name: "Leaky later",
      tasks: [{ id: "a", uses: `${uses}/leak@^1`, with: { later: true } }],
    });
    const id = await run(owner, slug, "leaky-later");
    let callback: string | undefined;
    for (let i = 0; i < 100 && !callback; i++) {
      const url = (await callsTo(name)).find((call) => call.path === "operators/leak")?.callback_url;
      callback = typeof url === "string" ? new URL(url).pathname : undefined;
      if (!callback) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(callback).toMatch(/^\/api\/callbacks\/cb_/);
    const leaked = { status: "success", output: { key: "good-key", note: "key good-key" } };
    expect((await owner.json("POST", callback ?? "", { body: leaked })).status).toBe(200);
    const detail = await finished(owner, slug, "leaky-later", id);
    expect(task(detail, "a")).toMatchObject({ status: "success", output: { key: "***", note: "key ***" } });
    expect(JSON.stringify(detail)).not.toContain("good-key");
  });

  it("still runs core, first-party and installed by nobody, at its published version", async () => {
    const { owner, slug } = await ownerWithTenant();
    await savePipeline(owner, slug, "core", { name: "Core", tasks: [{ id: "a", uses: "core/noop@^1" }] });
    const detail = await finished(owner, slug, "core", await run(owner, slug, "core"));
    expect(detail.status).toBe("success");
    const pinned = await env.DB.prepare("SELECT binding FROM plugin_versions WHERE plugin = 'core'").first();
    expect(pinned).toEqual({ binding: "PLUGIN_CORE" });
  });
});

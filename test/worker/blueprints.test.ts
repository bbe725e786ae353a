/**
 * The blueprint gallery (issue 14): every blueprint is a spec the API accepts as it is (YAML, saved
 * through `PUT …/pipelines/{p}`), and five of them run end to end against local servers: a service
 * (test/worker/manifest-server.ts `/target/…`) and, for the s3 connector, s3rver.
 */
import { AwsClient } from "aws4fetch";
import { describe, expect, inject, it } from "vitest";
// s3rver's port (its globalSetup declares it in vitest's ProvidedContext).
import type {} from "../../plugins/s3/test/s3-server";
import type { Blueprint } from "../../worker/contracts/blueprints";
import { Client, expectProblem, ownerWithTenant } from "./helpers";
import { type Detail, pipelineStub, task } from "./runs-helpers";

const target = (path: string) => `http://127.0.0.1:${inject("manifestPort")}/target/${path}`;

async function gallery(owner: Client): Promise<Blueprint[]> {
  const res = await owner.json<{ items: Blueprint[] }>("GET", "/api/blueprints");
  expect(res.status).toBe(200);
  return res.body.items;
}

async function saveBlueprint(owner: Client, slug: string, blueprint: Blueprint) {
  return owner.json("PUT", `/api/tenants/${slug}/pipelines/${blueprint.id}`, {
    raw: blueprint.source,
    contentType: "application/yaml",
  });
}

async function runToEnd(owner: Client, slug: string, pipeline: string, params: object): Promise<Detail> {
  const started = await owner.json<{ id: string }>(
    "POST",
    `/api/tenants/${slug}/pipelines/${pipeline}/runs`,
    {
      body: { params },
    },
  );
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const stub = await pipelineStub(slug, pipeline);
  for (let i = 0; i < 200; i++) {
    await stub.settled();
    const res = await owner.json<Detail>(
      "GET",
      `/api/tenants/${slug}/pipelines/${pipeline}/runs/${started.body.id}`,
    );
    if (!["queued", "running"].includes(res.body.status)) return res.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the run of ${pipeline} did not end`);
}

const sink = async (name: string) => (await fetch(target(`sink/${name}`))).json() as Promise<unknown[]>;

describe("blueprints", () => {
  it("lists each blueprint with what it needs, and answers 401 to a stranger", async () => {
    const { owner } = await ownerWithTenant();
    const items = await gallery(owner);
    expect(items.length).toBeGreaterThanOrEqual(8);
    for (const item of items) {
      expect(item.title.length, item.id).toBeGreaterThan(0);
      expect(item.description.length, item.id).toBeGreaterThan(20);
      expect(item.plugins.length, item.id).toBeGreaterThan(0);
    }
    expect(items.find((b) => b.id === "daily-etl")?.triggers).toEqual(["schedule"]);
    expect(items.find((b) => b.id === "forward-webhook")?.triggers).toEqual(["webhook"]);
    expect(items.find((b) => b.id === "process-bucket")?.plugins).toEqual(["s3", "core"]);
    expectProblem(await new Client().json("GET", "/api/blueprints"), 401);
  });

  it("saves every blueprint as it is: each is a valid pipeline", async () => {
    const { owner, slug } = await ownerWithTenant();
    for (const blueprint of await gallery(owner)) {
      const saved = await saveBlueprint(owner, slug, blueprint);
      expect(saved.status, `${blueprint.id}: ${JSON.stringify(saved.body)}`).toBe(201);
    }
  });

  it("runs the fan-out: one instance per listed item, then a summary of them all", async () => {
    const { owner, slug } = await ownerWithTenant();
    const blueprint = (await gallery(owner)).find((b) => b.id === "fan-out");
    if (!blueprint) throw new Error("no fan-out blueprint");
    await saveBlueprint(owner, slug, blueprint);
    const run = await runToEnd(owner, slug, "fan-out", { list_url: target("items") });
    expect(run.status, JSON.stringify(run.tasks)).toBe("success");
    expect(run.tasks.filter((t) => t.id === "each")).toHaveLength(3);
    expect(task(run, "summary").output).toEqual({ count: 3, total_kb: 3.5 });
  });

  it("runs wait-then-notify: the sensor waits for the export, then the message has its rows", async () => {
    const { owner, slug } = await ownerWithTenant();
    const blueprint = (await gallery(owner)).find((b) => b.id === "wait-then-notify");
    if (!blueprint) throw new Error("no wait-then-notify blueprint");
    await saveBlueprint(owner, slug, blueprint);
    const room = `chat-${Date.now()}`;
    const run = await runToEnd(owner, slug, "wait-then-notify", {
      status_url: target(`export?ready_at=${Date.now() + 1_500}`),
      notify_url: target(`sink/${room}`),
      poke_interval: "1s",
    });
    expect(run.status, JSON.stringify(run.tasks)).toBe("success");
    expect(task(run, "export_ready").output).toMatchObject({ body: { state: "done", rows: 42 } });
    expect(await sink(room)).toEqual([{ text: "The export is ready: 42 rows." }]);
  });

  it("runs the daily ETL by hand: extract, reshape in cents, load", async () => {
    const { owner, slug } = await ownerWithTenant();
    const blueprint = (await gallery(owner)).find((b) => b.id === "daily-etl");
    if (!blueprint) throw new Error("no daily-etl blueprint");
    await saveBlueprint(owner, slug, blueprint);
    const warehouse = `warehouse-${Date.now()}`;
    const run = await runToEnd(owner, slug, "daily-etl", {
      source_url: target("records"),
      destination_url: target(`sink/${warehouse}`),
    });
    expect(run.status, JSON.stringify(run.tasks)).toBe("success");
    const [loaded] = (await sink(warehouse)) as Array<{ rows: unknown }>;
    expect(loaded?.rows).toEqual([
      { id: 1, amount_cents: 150 },
      { id: 2, amount_cents: 25 },
    ]);
  });

  it("runs process-bucket with the s3 connector against s3rver: list, read each, reshape, load", async () => {
    const { owner, slug } = await ownerWithTenant();
    const prefix = `incoming-${Date.now()}/`;
    const store = `http://127.0.0.1:${inject("s3Port")}`;
    const s3 = new AwsClient({
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      service: "s3",
      region: "us-east-1",
    });
    for (const [name, rows] of [
      ["a.json", [1, 2]],
      ["b.json", [1, 2, 3]],
    ] as const) {
      const put = await s3.fetch(`${store}/updraft-test/${prefix}${name}`, {
        method: "PUT",
        body: JSON.stringify({ rows }),
      });
      expect(put.status).toBe(200);
    }
    const installed = await owner.json("POST", `/api/tenants/${slug}/installations`, {
      body: {
        plugin: "s3",
        config: {
          endpoint: store,
          bucket: "updraft-test",
          access_key_id: "S3RVER",
          secret_access_key: "S3RVER",
        },
      },
    });
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);
    const blueprint = (await gallery(owner)).find((b) => b.id === "process-bucket");
    if (!blueprint) throw new Error("no process-bucket blueprint");
    expect((await saveBlueprint(owner, slug, blueprint)).status).toBe(201);
    const warehouse = `bucket-load-${Date.now()}`;
    const run = await runToEnd(owner, slug, "process-bucket", {
      prefix,
      load_url: target(`sink/${warehouse}`),
    });
    expect(run.status, JSON.stringify(run.tasks)).toBe("success");
    expect(run.tasks.filter((t) => t.id === "read")).toHaveLength(2);
    const [loaded] = await sink(warehouse);
    expect(loaded).toEqual([
      { file: `${prefix}a.json`, rows: 2 },
      { file: `${prefix}b.json`, rows: 3 },
    ]);
  });

  it("runs the failure branch: the job fails, the alert is sent, the cleanup still runs", async () => {
    const { owner, slug } = await ownerWithTenant();
    const blueprint = (await gallery(owner)).find((b) => b.id === "failure-alert");
    if (!blueprint) throw new Error("no failure-alert blueprint");
    await saveBlueprint(owner, slug, blueprint);
    const alerts = `alerts-${Date.now()}`;
    const run = await runToEnd(owner, slug, "failure-alert", {
      // A 400 is not retried: the job fails at once.
      job_url: target("status?code=400"),
      alert_url: target(`sink/${alerts}`),
    });
    expect(run.status).toBe("failed");
    expect(task(run, "job").status).toBe("failed");
    expect(task(run, "alert").status).toBe("success");
    expect(task(run, "cleanup").status).toBe("success");
    const [alert] = (await sink(alerts)) as Array<{ text: string }>;
    expect(alert?.text).toMatch(/^The nightly job failed in run run_/);
  });
});

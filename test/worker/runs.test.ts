/** Runs through the API: a PipelineDO drives the planner and calls the real core plugin. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { observeConnections } from "./connection-observer";
import { task, withPipeline } from "./runs-helpers";

/** Rewrites every task's `uses` in the stored latest version, behind the API's back. */
async function replaceUses(tenant: string, pipeline: string, uses: string) {
  const row = await env.DB.prepare(
    "SELECT v.pipeline_id, v.version, v.spec FROM pipeline_versions v JOIN pipelines p ON p.id = v.pipeline_id JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = ? AND p.slug = ? AND v.version = p.latest_version",
  )
    .bind(tenant, pipeline)
    .first<{ pipeline_id: string; version: number; spec: string }>();
  if (!row) throw new Error("no such pipeline");
  const spec = JSON.parse(row.spec) as { tasks: { uses: string }[] };
  for (const task of spec.tasks) task.uses = uses;
  await env.DB.prepare("UPDATE pipeline_versions SET spec = ? WHERE pipeline_id = ? AND version = ?")
    .bind(JSON.stringify(spec), row.pipeline_id, row.version)
    .run();
}

const chain = {
  name: "Chain",
  params: { n: { type: "integer", default: 21 } },
  tasks: [
    { id: "a", uses: "core/noop@^1", with: { value: "{{ params.n }}" } },
    { id: "b", uses: "core/transform@^1", needs: ["a"], with: { expression: "tasks.a.output.value * 2" } },
    { id: "c", uses: "core/noop@^1", needs: ["b"], with: { value: "got {{ tasks.b.output }}" } },
  ],
};

describe("runs", () => {
  it("runs noop → transform → noop to success and shows each task's output", async () => {
    const { start } = await withPipeline(chain);
    const run = await start();
    expect(run.status).toBe("success");
    expect(run.params).toEqual({ n: 21 });
    expect(run.logical_date).toBeNull();
    expect(task(run, "a")).toMatchObject({ status: "success", attempts: 1, output: { value: 21 } });
    expect(task(run, "b")).toMatchObject({ status: "success", output: 42 });
    expect(task(run, "c")).toMatchObject({ status: "success", output: { value: "got 42" } });
  });

  it("lists runs newest first and filters them by status", async () => {
    const { owner, base, start } = await withPipeline(chain);
    const first = await start();
    const second = await start({ n: 1 });
    const all = await owner.json<{ items: { id: string; trigger: string }[] }>("GET", `${base}/runs`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((r) => r.id)).toEqual([second.id, first.id]);
    expect(all.body.items[0]?.trigger).toBe("manual");
    const failed = await owner.json<{ items: unknown[] }>("GET", `${base}/runs?status=failed`);
    expect(failed.body.items).toEqual([]);
  });

  it("evaluates when (skipping a task) and maps for_each over a task's output", async () => {
    const { start } = await withPipeline({
      name: "Mapping",
      params: { go: { type: "boolean", default: false } },
      tasks: [
        { id: "items", uses: "core/transform@^1", with: { expression: "[1, 2, 3]" } },
        {
          id: "double",
          uses: "core/noop@^1",
          needs: ["items"],
          for_each: "{{ tasks.items.output }}",
          with: { value: "{{ item * 2 }}" },
        },
        { id: "maybe", uses: "core/noop@^1", when: "{{ params.go }}" },
        {
          id: "sum",
          uses: "core/transform@^1",
          needs: ["double"],
          with: { expression: "$sum(tasks.double.output.value)" },
        },
      ],
    });
    const run = await start();
    expect(run.status).toBe("success");
    expect([0, 1, 2].map((i) => task(run, "double", i).output)).toEqual([
      { value: 2 },
      { value: 4 },
      { value: 6 },
    ]);
    expect(task(run, "maybe").status).toBe("skipped");
    expect(task(run, "sum").output).toBe(12);
  });

  it("never has more than 6 plugin calls in flight for a 30-way for_each", async () => {
    const { start, stub } = await withPipeline({
      name: "Wide",
      tasks: [{ id: "wide", uses: "core/noop@^1", for_each: "{{ [1..30] }}", with: { value: "{{ item }}" } }],
    });
    const observed = await observeConnections(stub);
    const run = await start();
    expect(run.status).toBe("success");
    expect(run.tasks.filter((t) => t.status === "success")).toHaveLength(30);
    // Seen from the object's bindings (direct calls and hand-offs), not from its own counter.
    const { peak, calls } = await observed();
    expect(calls).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(6);
  });

  it("fails a task that uses a plugin the tenant has not installed, without retrying", async () => {
    const { slug, start } = await withPipeline({
      name: "Missing plugin",
      tasks: [{ id: "x", uses: "core/noop@^1", retries: 3 }],
    });
    // Saving refuses a plugin that is not installed; a version saved before it was uninstalled has one.
    await replaceUses(slug, "demo", "acme/thing@^1");
    const run = await start();
    expect(run.status).toBe("failed");
    expect(task(run, "x")).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { kind: "input_invalid", message: "plugin acme is not installed" },
    });
  });

  it("ends in a clean failed state when an operator fails for good, with the error in detail and logs", async () => {
    const { owner, base, start } = await withPipeline({
      name: "Failing",
      tasks: [
        { id: "boom", uses: "core/fail@^1", with: { message: "it broke" } },
        { id: "after", uses: "core/noop@^1", needs: ["boom"] },
      ],
    });
    const run = await start();
    expect(run.status).toBe("failed");
    expect(task(run, "boom")).toMatchObject({
      status: "failed",
      error: { kind: "plugin_error", message: expect.stringContaining("it broke") },
    });
    expect(task(run, "after")).toMatchObject({
      status: "upstream_failed",
      error: { kind: "upstream_failed", message: 'upstream task "boom" failed' },
    });
    const logs = await owner.json<{ items: { message: string; attempt: number }[] }>(
      "GET",
      `${base}/runs/${run.id}/tasks/boom/logs`,
    );
    expect(logs.status).toBe(200);
    expect(logs.body.items.some((l) => l.message.includes("it broke") && l.attempt === 1)).toBe(true);
  });
});

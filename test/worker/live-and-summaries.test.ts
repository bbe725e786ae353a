/** The live WebSocket of a pipeline, and run summaries written behind to D1 for tenant-wide lists. */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Client, expectProblem, ORIGIN, ownerWithTenant } from "./helpers";
import { leftovers, pipelineStub, savePipeline, withPipeline } from "./runs-helpers";

const SPEC = {
  name: "Live demo",
  tasks: [
    { id: "a", uses: "core/noop@^1" },
    { id: "b", uses: "core/noop@^1", needs: ["a"] },
  ],
};

async function openLive(client: Client, path: string, headers: Record<string, string> = {}) {
  const request = new Request(`${ORIGIN}${path}`, {
    headers: { upgrade: "websocket", ...(client.cookie ? { cookie: client.cookie } : {}), ...headers },
  });
  return exports.default.fetch(request);
}

describe("live view", () => {
  it("streams run and task state changes to a watcher as they happen", async () => {
    const p = await withPipeline(SPEC);
    const res = await openLive(p.owner, `${p.base}/live`);
    expect(res.status).toBe(101);
    const socket = res.webSocket;
    if (!socket) throw new Error("no socket");
    const messages: { type: string; status?: string; task?: string }[] = [];
    socket.addEventListener("message", (event) => messages.push(JSON.parse(String(event.data))));
    socket.accept();
    const run = await p.start();
    expect(run.status).toBe("success");
    await p.settled();
    const runStates = messages.filter((m) => m.type === "run").map((m) => m.status);
    expect(runStates).toEqual(expect.arrayContaining(["queued", "running", "success"]));
    expect(runStates.indexOf("running")).toBeLessThan(runStates.indexOf("success"));
    const taskStates = messages.filter((m) => m.type === "task" && m.task === "b").map((m) => m.status);
    expect(taskStates.at(-1)).toBe("success");
    socket.close();
  });

  it("answers a plain GET with 426, another tenant with 404 and a foreign origin with 403", async () => {
    const p = await withPipeline(SPEC);
    expectProblem(await p.owner.json("GET", `${p.base}/live`), 426);
    const stranger = await ownerWithTenant();
    expect((await openLive(stranger.owner, `${p.base}/live`)).status).toBe(404);
    expect((await openLive(p.owner, `${p.base}/live`, { origin: "https://evil.example" })).status).toBe(403);
  });
});

describe("run summaries (write-behind)", () => {
  it("lists runs across the tenant's pipelines, newest first, with the pipeline's last run", async () => {
    const p = await withPipeline(SPEC, "first");
    await savePipeline(p.owner, p.slug, "second", SPEC);
    const one = await p.start();
    const second = await p.owner.json<{ id: string }>(
      "POST",
      `/api/tenants/${p.slug}/pipelines/second/runs`,
      { body: {} },
    );
    await (await pipelineStub(p.slug, "second")).settled();

    type Page = { items: { id: string; pipeline: string; status: string }[]; next_cursor: string | null };
    const all = await p.owner.json<Page>("GET", `/api/tenants/${p.slug}/runs`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((r) => [r.pipeline, r.status])).toEqual([
      ["second", "success"],
      ["first", "success"],
    ]);
    const paged = await p.owner.json<Page>("GET", `/api/tenants/${p.slug}/runs?limit=1`);
    expect(paged.body.items.map((r) => r.id)).toEqual([second.body.id]);
    const rest = await p.owner.json<Page>(
      "GET",
      `/api/tenants/${p.slug}/runs?limit=1&cursor=${encodeURIComponent(paged.body.next_cursor ?? "")}`,
    );
    expect(rest.body.items.map((r) => r.id)).toEqual([one.id]);
    expect(rest.body.next_cursor).toBeNull();

    const list = await p.owner.json<{
      items: { slug: string; last_run: { id: string; status: string } | null }[];
    }>("GET", `/api/tenants/${p.slug}/pipelines`);
    expect(list.body.items.find((i) => i.slug === "first")?.last_run).toMatchObject({
      id: one.id,
      status: "success",
    });
  });

  it("writes one summary row per run, updated in place as the run finishes", async () => {
    const p = await withPipeline(SPEC);
    const run = await p.start();
    const rows = await env.DB.prepare("SELECT status, started_at, ended_at FROM runs WHERE id = ?")
      .bind(run.id)
      .all();
    expect(rows.results).toEqual([
      { status: "success", started_at: expect.any(String), ended_at: expect.any(String) },
    ]);
  });

  it("answers 404 for another tenant, 422 for a bad cursor, and drops summaries with their pipeline", async () => {
    const p = await withPipeline(SPEC);
    await p.start();
    const stranger = await ownerWithTenant();
    expectProblem(await stranger.owner.json("GET", `/api/tenants/${p.slug}/runs`), 404);
    expectProblem(await p.owner.json("GET", `/api/tenants/${p.slug}/runs?cursor=garbage`), 422);
    expect((await p.owner.call("DELETE", p.base)).status).toBe(204);
    const after = await p.owner.json<{ items: unknown[] }>("GET", `/api/tenants/${p.slug}/runs`);
    expect(after.body.items).toEqual([]);
  });

  it("retires a deleted pipeline's object, keeps its runs from coming back, and still counts them for the day", async () => {
    const p = await withPipeline({
      name: "Long",
      schedule: { cron: "0 0 * * *", timezone: "UTC", catchup: false },
      tasks: [{ id: "wait", uses: "core/sleep@^1", with: { duration: "1h" } }],
    });
    const started = await p.owner.json<{ id: string }>("POST", `${p.base}/runs`, { body: {} });
    expect(started.status).toBe(201);
    await p.settled();
    const usage = async () =>
      (await p.owner.json<{ usage: { runs_today: number } }>("GET", `/api/tenants/${p.slug}`)).body.usage;
    expect((await usage()).runs_today).toBe(1);
    // A sleeping run and the schedule's next fire: the object has rows and an alarm.
    expect((await leftovers(p.stub)).alarm).not.toBeNull();
    expect((await p.owner.call("DELETE", p.base)).status).toBe(204);
    // The object stopped its clock, cancelled the run and emptied its storage: nothing fires again.
    expect(await leftovers(p.stub)).toMatchObject({ rows: {}, alarm: null });
    expect((await leftovers(p.stub)).tables).toBeGreaterThan(5);
    // A summary flushed late does not bring the run back to the tenant's list …
    await p.settled();
    const after = await p.owner.json<{ items: unknown[] }>("GET", `/api/tenants/${p.slug}/runs`);
    expect(after.body.items).toEqual([]);
    // … and deleting the pipeline did not give the tenant its day's runs back.
    expect((await usage()).runs_today).toBe(1);
  });
});

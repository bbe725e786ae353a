/** What people do to runs (cancel, retry, mark), who may do it, and time driven through the alarm. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { expectProblem, ownerWithTenant, tokenFor } from "./helpers";
import { task, withPipeline } from "./runs-helpers";

afterEach(() => {
  vi.useRealTimers();
});

const failThenNoop = {
  name: "Fail then noop",
  tasks: [
    { id: "a", uses: "core/fail@^1", with: { message: "nope" } },
    { id: "b", uses: "core/noop@^1", needs: ["a"], with: { value: "ran" } },
  ],
};

describe("run actions", () => {
  it("retries a retryable failure after its backoff, when the alarm runs, then fails the task", async () => {
    const { start, detail, alarm } = await withPipeline({
      name: "Retries",
      tasks: [
        {
          id: "f",
          uses: "core/fail@^1",
          retries: 1,
          retry_delay: "30s",
          with: { message: "flaky", retryable: true },
        },
      ],
    });
    const first = await start();
    expect(first.status).toBe("running");
    expect(task(first, "f")).toMatchObject({
      status: "up_for_retry",
      attempts: 1,
      error: { kind: "plugin_error", message: expect.stringContaining("flaky") },
    });
    // Not due yet: the alarm delivers nothing and the task keeps waiting.
    await alarm();
    expect(task(await detail(first.id), "f").status).toBe("up_for_retry");
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 31_000 });
    await alarm();
    const after = await detail(first.id);
    expect(task(after, "f")).toMatchObject({ status: "failed", attempts: 2 });
    expect(after.status).toBe("failed");
    // Alarms are at-least-once: running it again changes nothing.
    await alarm();
    expect(await detail(first.id)).toEqual(after);
  });

  it("marks a failed task successful so the DAG continues, and retries it on request", async () => {
    const { owner, base, start, detail } = await withPipeline(failThenNoop);
    const run = await start();
    expect(run.status).toBe("failed");
    expect(task(run, "b").status).toBe("upstream_failed");
    const mark = await owner.json("POST", `${base}/runs/${run.id}/tasks/a/mark`, {
      body: { status: "success" },
    });
    expect(mark.status).toBe(200);
    const marked = await detail(run.id);
    expect(marked.status).toBe("success");
    expect(task(marked, "b")).toMatchObject({ status: "success", output: { value: "ran" } });
    const retry = await owner.json("POST", `${base}/runs/${run.id}/tasks/a/retry`);
    expect(retry.status).toBe(200);
    const retried = await detail(run.id);
    expect(retried.status).toBe("failed");
    expect(task(retried, "a")).toMatchObject({ status: "failed", attempts: 1 });
    expect(task(retried, "b").status).toBe("upstream_failed");
  });

  it("cancels a running run once: a second cancel, a retry or a mark afterwards are 409", async () => {
    const { owner, base, start, detail } = await withPipeline({
      name: "Sleeper",
      tasks: [{ id: "nap", uses: "core/sleep@^1", with: { duration: "1h" } }],
    });
    const run = await start();
    expect(run.status).toBe("running");
    expect(task(run, "nap").status).toBe("waiting");
    expectProblem(await owner.json("POST", `${base}/runs/${run.id}/tasks/nap/retry`), 409);
    const cancel = await owner.json<{ status: string }>("POST", `${base}/runs/${run.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe("cancelled");
    const after = await detail(run.id);
    expect(after.status).toBe("cancelled");
    expect(task(after, "nap").status).toBe("cancelled");
    expectProblem(await owner.json("POST", `${base}/runs/${run.id}/cancel`), 409);
    expectProblem(await owner.json("POST", `${base}/runs/${run.id}/tasks/nap/retry`), 409);
    const mark = await owner.json("POST", `${base}/runs/${run.id}/tasks/nap/mark`, {
      body: { status: "success" },
    });
    expectProblem(mark, 409);
  });

  it("answers 404 for an unknown run or task, and 409 for marking an unknown task", async () => {
    const { owner, base, start } = await withPipeline(failThenNoop);
    const run = await start();
    expectProblem(await owner.json("GET", `${base}/runs/run_nope`), 404);
    expectProblem(await owner.json("POST", `${base}/runs/run_nope/cancel`), 404);
    const noRun = expectProblem(await owner.json("GET", `${base}/runs/run_nope/tasks/a/logs`), 404);
    expect(noRun.detail).toBe("No such run.");
    const noTask = expectProblem(await owner.json("GET", `${base}/runs/${run.id}/tasks/zzz/logs`), 404);
    expect(noTask.detail).toBe("No such task.");
    const mark = await owner.json("POST", `${base}/runs/${run.id}/tasks/zzz/mark`, {
      body: { status: "failed" },
    });
    expectProblem(mark, 409);
  });

  it("validates params against the spec: wrong type, missing and unknown params are 422 with paths", async () => {
    const { owner, base } = await withPipeline({
      name: "Params",
      params: { n: { type: "integer", minimum: 1 }, tag: { type: "string", default: "x" } },
      tasks: [{ id: "a", uses: "core/noop@^1" }],
    });
    const wrong = expectProblem(
      await owner.json("POST", `${base}/runs`, { body: { params: { n: "seven" } } }),
      422,
    );
    expect(wrong.errors?.map((e) => e.path)).toContain("params.n");
    const missing = expectProblem(await owner.json("POST", `${base}/runs`, { body: {} }), 422);
    expect(missing.errors).toEqual([{ path: "params.n", message: expect.stringContaining("required") }]);
    const unknown = expectProblem(
      await owner.json("POST", `${base}/runs`, { body: { params: { n: 2, nope: 1 } } }),
      422,
    );
    expect(unknown.errors?.map((e) => e.path)).toEqual(["params.nope"]);
    const ok = await owner.json<{ status: string }>("POST", `${base}/runs`, { body: { params: { n: 2 } } });
    expect(ok.status).toBe(201);
  });

  it("does not run a param's pattern over a value longer than 10,000 characters (422)", async () => {
    const { owner, base } = await withPipeline({
      name: "Pattern",
      params: { slug: { type: "string", pattern: "^[a-z]+$", default: "a" } },
      tasks: [{ id: "a", uses: "core/noop@^1" }],
    });
    const long = expectProblem(
      await owner.json("POST", `${base}/runs`, { body: { params: { slug: "a".repeat(10_001) } } }),
      422,
    );
    expect(long.errors).toEqual([{ path: "params.slug", message: "longer than 10000 characters" }]);
    const fine = await owner.json("POST", `${base}/runs`, { body: { params: { slug: "a".repeat(10_000) } } });
    expect(fine.status).toBe(201);
  });

  it("refuses to start a run of a paused pipeline with 409", async () => {
    const { owner, base } = await withPipeline(failThenNoop);
    expect((await owner.json("POST", `${base}/pause`)).status).toBe(200);
    expectProblem(await owner.json("POST", `${base}/runs`, { body: {} }), 409);
  });

  it("hides another tenant's runs (404) and lets viewers read but not act (403)", async () => {
    const { owner, slug, base, start } = await withPipeline(failThenNoop);
    const run = await start();
    const stranger = await ownerWithTenant();
    expectProblem(await stranger.owner.json("GET", `${base}/runs/${run.id}`), 404);
    expectProblem(await stranger.owner.json("POST", `${base}/runs`, { body: {} }), 404);
    expectProblem(await stranger.owner.json("POST", `${base}/runs/${run.id}/cancel`), 404);
    const viewer = await tokenFor(owner, slug, "viewer");
    expect((await viewer.json("GET", `${base}/runs/${run.id}`)).status).toBe(200);
    expect((await viewer.json("GET", `${base}/runs`)).status).toBe(200);
    expectProblem(await viewer.json("POST", `${base}/runs`, { body: {} }), 403);
    expectProblem(await viewer.json("POST", `${base}/runs/${run.id}/tasks/a/retry`), 403);
    expectProblem(await viewer.json("POST", `${base}/runs/${run.id}/cancel`), 403);
  });

  it("writes audit rows for starting runs and for the actions on them", async () => {
    const { owner, slug, base, start } = await withPipeline(failThenNoop);
    const run = await start();
    await owner.json("POST", `${base}/runs/${run.id}/tasks/a/mark`, { body: { status: "success" } });
    const audit = await owner.json<{ items: { action: string; target: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    const actions = audit.body.items.map((i) => i.action);
    expect(actions).toContain("run.create");
    expect(actions).toContain("task.mark_success");
  });

  it("answers 404 to a callback with an unknown token", async () => {
    const { owner } = await withPipeline(failThenNoop);
    const token = `cb_${"0".repeat(64)}_${"a".repeat(32)}`;
    const res = await owner.json("POST", `/api/callbacks/${token}`, {
      body: { status: "success", output: 1 },
    });
    expectProblem(res, 404);
  });
});

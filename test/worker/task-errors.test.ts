/**
 * The run detail answers each task's `error` as `null` or `{kind, message}` (API.md): one test per kind,
 * each driven through the API and the real core plugin, or a plugin that misbehaves; plus a run
 * persisted before errors had kinds, which still reads.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { invokeOperator } from "../../worker/runner/invoke";
import { serviceTransport } from "../../worker/runner/transport";
import { invocation } from "./invocations";
import { asIfAccepted, task, withPipeline } from "./runs-helpers";

afterEach(() => {
  vi.useRealTimers();
});

const one = (t: object, extra: object = {}) => ({ name: "Errors", ...extra, tasks: [{ id: "t", ...t }] });

describe("a task's error in the run detail", () => {
  it("is null while nothing went wrong", async () => {
    const run = await (await withPipeline(one({ uses: "core/noop@^1" }))).start();
    expect(task(run, "t")).toMatchObject({ status: "success", error: null });
  });

  it("is a timeout when the invocation's deadline passed before the plugin could answer", async () => {
    const { start } = await withPipeline(one({ uses: "core/noop@^1", timeout: "1s" }));
    // The object's clock runs 10 s behind the plugin's: the 1 s deadline it sets has passed on arrival.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 10_000 });
    const run = await start();
    expect(task(run, "t")).toMatchObject({
      status: "failed",
      error: { kind: "timeout", message: "the deadline passed before the call" },
    });
  });

  it("is a plugin_error when the plugin answers a failure, and the log line says so", async () => {
    const { owner, base, start } = await withPipeline(
      one({ uses: "core/fail@^1", with: { message: "disk full" } }),
    );
    const run = await start();
    expect(task(run, "t")).toMatchObject({
      status: "failed",
      error: { kind: "plugin_error", message: expect.stringContaining("disk full") },
    });
    const logs = await owner.json<{ items: { message: string }[] }>(
      "GET",
      `${base}/runs/${run.id}/tasks/t/logs`,
    );
    expect(logs.body.items.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^attempt 1 failed \(plugin_error\): .*disk full/),
    );
  });

  it("is a protocol_error when the plugin's answer is not a protocol result", async () => {
    const { stub, start, detail } = await withPipeline(
      one({ uses: "core/sleep@^1", with: { duration: "1h" } }),
    );
    const run = await start();
    const token = await asIfAccepted(stub, run.id, "t");
    // What the runner makes of a plugin answering `{"status": "done"}`, reported as a Dispatcher would.
    const misbehaving = serviceTransport("misbehaving", env.MISBEHAVING_PLUGIN);
    const outcome = await invokeOperator(misbehaving, "wrong-shape", invocation({}), {
      signingKey: env.SIGNING_KEY,
    });
    expect(await stub.reportResults({ results: [{ token, outcome }], peak_in_flight: 1 })).toEqual({
      delivered: 1,
    });
    expect(task(await detail(run.id), "t")).toMatchObject({
      status: "failed",
      error: { kind: "protocol_error", message: expect.stringContaining("not a protocol v1 result") },
    });
  });

  it("is an expression_error when a `with` expression fails", async () => {
    const run = await (
      await withPipeline(one({ uses: "core/noop@^1", with: { value: "{{ $nosuch(1) }}" } }))
    ).start();
    expect(task(run, "t")).toMatchObject({
      status: "failed",
      error: { kind: "expression_error", message: expect.stringMatching(/^input: /) },
    });
  });

  it("is input_invalid when the rendered input violates the operator's schema", async () => {
    const run = await (
      await withPipeline(one({ uses: "core/sleep@^1", with: { duration: "{{ 5 * 60 }}" } }))
    ).start();
    expect(task(run, "t")).toMatchObject({
      status: "failed",
      error: { kind: "input_invalid", message: expect.stringContaining("input.duration") },
    });
  });

  it("is marked_failed when a person marks the task failed", async () => {
    const { owner, base, start, detail } = await withPipeline(one({ uses: "core/noop@^1" }));
    const run = await start();
    const mark = await owner.json("POST", `${base}/runs/${run.id}/tasks/t/mark`, {
      body: { status: "failed" },
    });
    expect(mark.status).toBe(200);
    expect(task(await detail(run.id), "t")).toMatchObject({
      status: "failed",
      error: { kind: "marked_failed", message: "marked failed" },
    });
  });

  it("is cancelled, with the reason, for instances of a cancelled run", async () => {
    const { owner, base, start, detail } = await withPipeline({
      name: "Sleeper",
      tasks: [
        { id: "nap", uses: "core/sleep@^1", with: { duration: "1h" } },
        { id: "after", uses: "core/noop@^1", needs: ["nap"] },
      ],
    });
    const run = await start();
    expect((await owner.json("POST", `${base}/runs/${run.id}/cancel`)).status).toBe(200);
    const after = await detail(run.id);
    const cancelled = { kind: "cancelled", message: "cancelled by a person" };
    expect(task(after, "nap")).toMatchObject({ status: "cancelled", error: cancelled });
    expect(task(after, "after")).toMatchObject({ status: "cancelled", error: cancelled });
  });

  it("is upstream_failed, naming the upstream task, when a failure stops the task", async () => {
    const run = await (
      await withPipeline({
        name: "Chain",
        tasks: [
          { id: "a", uses: "core/fail@^1", with: { message: "nope" } },
          { id: "b", uses: "core/noop@^1", needs: ["a"] },
        ],
      })
    ).start();
    expect(task(run, "b")).toMatchObject({
      status: "upstream_failed",
      error: { kind: "upstream_failed", message: 'upstream task "a" failed' },
    });
  });
});

describe("a run persisted before errors had kinds", () => {
  it("still reads, its errors of kind unknown, and keeps running", async () => {
    const { owner, base, stub, start, detail } = await withPipeline({
      name: "Old",
      tasks: [
        { id: "a", uses: "core/fail@^1", with: { message: "nope" } },
        { id: "b", uses: "core/noop@^1", needs: ["a"] },
      ],
    });
    const run = await start();
    // Rewrite the row as the previous version wrote it: shape version 1, errors as bare strings.
    await runInDurableObject(stub, (instance, state) => {
      const sql = state.storage.sql;
      const row = sql.exec<{ state: string }>("SELECT state FROM runs WHERE id = ?", run.id).one();
      const saved = JSON.parse(row.state);
      saved.v = 1;
      saved.tasks.a.instances[0].error = "core (service binding) failed: nope";
      sql.exec("UPDATE runs SET state = ? WHERE id = ?", JSON.stringify(saved), run.id);
      instance.forgetCachedState();
    });
    const old = await detail(run.id);
    expect(task(old, "a")).toMatchObject({
      status: "failed",
      error: { kind: "unknown", message: "core (service binding) failed: nope" },
    });
    expect(task(old, "b").error).toEqual({ kind: "upstream_failed", message: 'upstream task "a" failed' });
    // The old run takes new actions: a retry fails again, this time with a kind.
    expect((await owner.json("POST", `${base}/runs/${run.id}/tasks/a/retry`)).status).toBe(200);
    expect(task(await detail(run.id), "a").error).toMatchObject({ kind: "plugin_error" });
  });
});

import { describe, expect, it } from "vitest";
import { Harness, pipeline } from "./helpers";

const chain = () => pipeline([{ id: "a" }, { id: "b", needs: ["a"] }, { id: "c", needs: ["b"] }]);

describe("retry_task", () => {
  it("clears the task and its downstream with a new generation, and runs the run again", () => {
    const h = new Harness(chain());
    h.fail("a");
    expect(h.state.status).toBe("failed");
    h.send({ type: "retry_task", task: "a" });
    expect(h.state.status).toBe("running");
    expect(h.dispatches()).toEqual([
      {
        type: "dispatch",
        key: "a",
        task: "a",
        map_index: -1,
        attempt: 1,
        generation: 1,
        dispatch: 2,
        deadline_at: null,
      },
    ]);
    expect(h.instance("b")).toMatchObject({ status: "pending", gate: "upstream" });
    expect(h.state.tasks.c?.generation).toBe(1);
    h.succeed("a", "b", "c");
    expect(h.state.status).toBe("success");
  });

  it("leaves the downstream alone when asked to", () => {
    const h = new Harness(chain());
    h.succeed("a", "b", "c");
    h.send({ type: "retry_task", task: "a", downstream: false });
    expect([h.status("a"), h.status("b"), h.status("c")]).toEqual(["scheduled", "success", "success"]);
    expect(h.state.tasks.b?.generation).toBe(0);
    h.succeed("a");
    expect(h.state.status).toBe("success");
  });

  it("re-expands a mapped task, announcing the removed instances", () => {
    const h = new Harness(pipeline([{ id: "each", for_each: [1, 2] }]));
    h.succeed("each[0]", "each[1]");
    h.send({ type: "retry_task", task: "each" });
    const removed = h.of("publish").filter((p) => p.event.type === "task_removed");
    // The old instances go, a placeholder stands in, and expanding again replaces the placeholder.
    expect(removed.map((p) => (p.event.type === "task_removed" ? p.event.key : ""))).toEqual([
      "each[0]",
      "each[1]",
      "each",
    ]);
    expect(h.dispatches().map((d) => [d.key, d.generation, d.attempt])).toEqual([
      ["each[0]", 1, 1],
      ["each[1]", 1, 1],
    ]);
  });

  it("ignores a late result from the cleared generation", () => {
    const h = new Harness(pipeline([{ id: "a" }, { id: "b", trigger_rule: "always", needs: ["a"] }]));
    const old = h.instance("b");
    h.fail("a");
    h.send({ type: "retry_task", task: "a" });
    const late = {
      type: "task_result",
      key: "b",
      attempt: old.attempt,
      dispatch: old.dispatch,
      outcome: { status: "success", output_ref: "x" },
    } as const;
    expect(h.send(late).kind).toBe("ignored");
  });

  it.each([
    [
      "a task that is still running",
      "a",
      "conflict",
      'task "a" is scheduled: only a finished task can be retried',
    ],
    ["a task that has not run", "b", "conflict", 'task "b" is pending: only a finished task can be retried'],
    ["an unknown task", "ghost", "conflict", 'unknown task "ghost"'],
  ])("refuses %s", (_, task, rejected, detail) => {
    const h = new Harness(chain());
    expect(h.send({ type: "retry_task", task })).toEqual({ kind: "rejected", rejected, detail });
  });

  it("refuses a cancelled run and a run that has not started", () => {
    const h = new Harness(chain());
    h.fail("a");
    const cancelled = new Harness(chain());
    cancelled.send({ type: "cancel" });
    expect(cancelled.send({ type: "retry_task", task: "a" })).toMatchObject({
      rejected: "conflict",
      detail: "cannot retry a task: the run was cancelled",
    });
    const queued = new Harness(chain(), { start: false });
    expect(queued.send({ type: "retry_task", task: "a" })).toMatchObject({ rejected: "conflict" });
  });
});

describe("mark", () => {
  it("marks a running task successful and lets the DAG continue", () => {
    const h = new Harness(chain());
    h.send({ type: "mark", task: "a", status: "success" });
    expect(h.instance("a")).toMatchObject({ status: "success", output_ref: null });
    expect(h.dispatched()).toEqual(["b"]);
  });

  it("re-evaluates propagated failures, so marking the failed task successful finishes the run", () => {
    const h = new Harness(chain());
    h.fail("a");
    expect(h.state.status).toBe("failed");
    h.send({ type: "mark", task: "a", status: "success" });
    expect(h.state.status).toBe("running");
    expect(h.dispatched()).toEqual(["b"]);
    h.succeed("b", "c");
    expect(h.state.status).toBe("success");
  });

  it("changes a finished run's outcome when nothing is left to run", () => {
    const h = new Harness(pipeline([{ id: "a" }]));
    h.fail("a");
    h.send({ type: "mark", task: "a", status: "success" });
    expect(h.state).toMatchObject({ status: "success" });
    expect(h.of("run_finished")).toEqual([{ type: "run_finished", status: "success" }]);
  });

  it("marks a task failed and propagates like a real failure", () => {
    const h = new Harness(chain());
    h.send({ type: "mark", task: "a", status: "failed" });
    expect(h.instance("a")).toMatchObject({
      status: "failed",
      error: { kind: "marked_failed", message: "marked failed" },
    });
    expect(h.state.status).toBe("failed");
  });

  it("is idempotent: marking again changes nothing", () => {
    const h = new Harness(chain());
    h.send({ type: "mark", task: "a", status: "success" });
    expect(h.send({ type: "mark", task: "a", status: "success" }).kind).toBe("ignored");
  });

  it("is a conflict for an unknown task or a cancelled run", () => {
    const h = new Harness(chain());
    expect(h.send({ type: "mark", task: "nope", status: "success" })).toEqual({
      kind: "rejected",
      rejected: "conflict",
      detail: 'unknown task "nope"',
    });
    h.send({ type: "cancel" });
    expect(h.send({ type: "mark", task: "a", status: "success" })).toMatchObject({ rejected: "conflict" });
  });
});

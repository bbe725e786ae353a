import { describe, expect, it } from "vitest";
import { Harness, pipeline } from "./helpers";

const params = { params: { go: { type: "boolean" }, list: { type: "array" } } };

describe("when", () => {
  const gated = () =>
    new Harness(
      pipeline(
        [
          { id: "a", when: "{{ params.go }}" },
          { id: "b", needs: ["a"] },
        ],
        params,
      ),
    );

  it("asks the DO to evaluate the condition once the trigger rule is met, before dispatching", () => {
    const h = gated();
    expect(h.of("evaluate")).toEqual([{ type: "evaluate", task: "a", kind: "when", map_index: -1 }]);
    expect(h.dispatched()).toEqual([]);
    h.send({ type: "when_evaluated", task: "a", value: true });
    expect(h.dispatched()).toEqual(["a"]);
  });

  it("skips a task whose condition is false, and an answer for the task afterwards is stale", () => {
    const h = gated();
    h.send({ type: "when_evaluated", task: "a", value: false });
    expect(h.instance("a")).toMatchObject({ status: "skipped", reason: "when" });
    expect(h.send({ type: "when_evaluated", task: "a", value: true }).kind).toBe("ignored");
  });

  it("fails the task when the expression cannot be evaluated", () => {
    const h = gated();
    h.send({ type: "evaluation_failed", task: "a", kind: "when", error: "undefined function" });
    expect(h.instance("a")).toMatchObject({
      status: "failed",
      error: { kind: "expression_error", message: "when failed: undefined function" },
    });
    expect(h.status("b")).toBe("upstream_failed");
  });
});

describe("for_each", () => {
  const mapped = (extra: Record<string, unknown> = {}) =>
    new Harness(
      pipeline(
        [
          { id: "src" },
          { id: "each", needs: ["src"], for_each: "{{ tasks.src.output }}", ...extra },
          { id: "join", needs: ["each"] },
        ],
        params,
      ),
    );

  it("starts with one placeholder instance per task", () => {
    const h = mapped();
    expect(h.state.tasks.each?.instances).toEqual([
      {
        status: "pending",
        gate: "upstream",
        map_index: -1,
        attempt: 0,
        dispatch: 0,
        started_at: null,
        ended_at: null,
      },
    ]);
  });

  it("evaluates the expression once upstream is done, then dispatches one instance per item", () => {
    const h = mapped();
    h.succeed("src");
    expect(h.of("evaluate")).toEqual([{ type: "evaluate", task: "each", kind: "for_each", map_index: -1 }]);
    h.send({ type: "for_each_expanded", task: "each", items: 3, items_ref: "items:each" });
    expect(h.dispatches().map((d) => [d.key, d.map_index])).toEqual([
      ["each[0]", 0],
      ["each[1]", 1],
      ["each[2]", 2],
    ]);
    expect(h.state.tasks.each?.items_ref).toBe("items:each");
  });

  it("holds the downstream until every mapped instance is done", () => {
    const h = mapped();
    h.succeed("src");
    h.send({ type: "for_each_expanded", task: "each", items: 2 });
    h.succeed("each[1]");
    expect(h.status("join")).toBe("pending");
    h.succeed("each[0]");
    expect(h.dispatched()).toEqual(["join"]);
  });

  it("treats the instances together for the downstream rule: one failure is upstream_failed", () => {
    const h = mapped();
    h.succeed("src");
    h.send({ type: "for_each_expanded", task: "each", items: 2 });
    h.fail("each[0]");
    expect(h.status("join")).toBe("upstream_failed");
  });

  it("skips a task that maps over no items, and its all_success downstream", () => {
    const h = mapped();
    h.succeed("src");
    h.send({ type: "for_each_expanded", task: "each", items: 0 });
    expect(h.instance("each")).toMatchObject({ status: "skipped", reason: "no_items" });
    expect(h.status("join")).toBe("skipped");
  });

  it("fails a task that maps over more than 1,000 items, with a clear error", () => {
    const h = mapped();
    h.succeed("src");
    h.send({ type: "for_each_expanded", task: "each", items: 1_001 });
    expect(h.instance("each")).toMatchObject({
      status: "failed",
      error: {
        kind: "expression_error",
        message: "for_each produced 1001 items; a task maps over at most 1000",
      },
    });
  });

  it("rejects an item count that is not a count", () => {
    const h = mapped();
    h.succeed("src");
    expect(h.send({ type: "for_each_expanded", task: "each", items: -1 })).toMatchObject({
      kind: "rejected",
    });
  });

  it("expands a literal list at once, without asking the DO", () => {
    const h = new Harness(pipeline([{ id: "each", for_each: ["a", "b"] }]));
    expect(h.of("evaluate")).toEqual([]);
    expect(h.dispatched()).toEqual(["each[0]", "each[1]"]);
  });

  it("evaluates a task-level when before expanding, so a false condition never evaluates for_each", () => {
    const h = new Harness(
      pipeline([{ id: "each", when: "{{ params.go }}", for_each: "{{ params.list }}" }], params),
    );
    expect(h.of("evaluate").map((e) => e.kind)).toEqual(["when"]);
    h.send({ type: "when_evaluated", task: "each", value: false });
    expect(h.of("evaluate")).toEqual([]);
    expect(h.state.status).toBe("success");
  });

  it("evaluates a when that reads item once per instance, after expanding", () => {
    const h = new Harness(
      pipeline([{ id: "each", when: "{{ item.on }}", for_each: [{ on: true }, { on: false }] }]),
    );
    expect(h.of("evaluate")).toEqual([
      { type: "evaluate", task: "each", kind: "when", map_index: 0 },
      { type: "evaluate", task: "each", kind: "when", map_index: 1 },
    ]);
    h.send({ type: "when_evaluated", task: "each", map_index: 1, value: false });
    h.send({ type: "when_evaluated", task: "each", map_index: 0, value: true });
    expect(h.dispatched()).toEqual(["each[0]"]);
    expect(h.instance("each[1]")).toMatchObject({ status: "skipped", reason: "when" });
  });

  it("keeps a per-instance idempotency generation and attempt for each mapped instance", () => {
    const h = new Harness(pipeline([{ id: "each", for_each: [1, 2], retries: 1, retry_delay: "1s" }]));
    h.fail("each[1]", true);
    h.fire("each[1]");
    expect(h.dispatches()).toEqual([
      expect.objectContaining({ key: "each[1]", map_index: 1, attempt: 2, generation: 0 }),
    ]);
    expect(h.instance("each[0]")).toMatchObject({ status: "scheduled", attempt: 1 });
  });
});

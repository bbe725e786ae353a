/** Task errors keep their kind through the planner, and the API's error is derived for every instance. */
import { describe, expect, it } from "vitest";
import { instanceError, parseTaskKey, RUN_STATE_VERSION, RunStateSchema } from "../../../worker/engine/index";
import { Harness, pipeline } from "./helpers";

/** The error the run detail shows for `key`, as view.ts asks for it. */
function shown(h: Harness, key: string) {
  return instanceError(h.plan, h.state, parseTaskKey(key)?.task ?? key, h.instance(key));
}

describe("the planner keeps an error's kind", () => {
  it("from the plugin's answer, through a retry to the final failure", () => {
    const h = new Harness(pipeline([{ id: "a", retries: 1, retry_delay: "1s" }]));
    const unreachable = { kind: "unreachable", message: "connection refused" } as const;
    h.answer("a", { status: "failure", error: unreachable, retryable: true });
    expect(h.instance("a")).toMatchObject({ status: "up_for_retry", error: unreachable });
    expect(shown(h, "a")).toEqual(unreachable);
    h.fire("a");
    const protocol = { kind: "protocol_error", message: "a body that is not JSON" } as const;
    h.answer("a", { status: "failure", error: protocol, retryable: true });
    // The last attempt's kind is the task's: the retries ran out on a protocol error.
    expect(h.instance("a")).toMatchObject({ status: "failed", error: protocol, attempt: 2 });
  });

  it("as timeout when the task's deadline passes", () => {
    const h = new Harness(pipeline([{ id: "a", timeout: "30s" }]));
    h.fire("a");
    expect(shown(h, "a")).toEqual({ kind: "timeout", message: "timed out after 30s" });
  });

  it("as expression_error when a when or for_each fails, or for_each gives too many items", () => {
    const h = new Harness(
      pipeline([{ id: "a", when: "{{ params.go }}" }], { params: { go: { type: "boolean" } } }),
    );
    h.send({ type: "evaluation_failed", task: "a", kind: "when", error: "undefined function" });
    expect(shown(h, "a")).toEqual({ kind: "expression_error", message: "when failed: undefined function" });
    const m = new Harness(
      pipeline([{ id: "src" }, { id: "each", needs: ["src"], for_each: "{{ tasks.src.output }}" }]),
    );
    m.succeed("src");
    m.send({ type: "for_each_expanded", task: "each", items: 5_000 });
    expect(shown(m, "each")?.kind).toBe("expression_error");
  });

  it("as marked_failed when a person marks the task failed", () => {
    const h = new Harness(pipeline([{ id: "a" }]));
    h.succeed("a");
    h.send({ type: "mark", task: "a", status: "failed" });
    expect(shown(h, "a")).toEqual({ kind: "marked_failed", message: "marked failed" });
  });
});

describe("the error shown for instances that never finished", () => {
  it("is null for instances that did not fail", () => {
    const h = new Harness(pipeline([{ id: "a" }, { id: "b", needs: ["a"] }]));
    expect(shown(h, "a")).toBeNull(); // scheduled
    expect(shown(h, "b")).toBeNull(); // pending
    h.succeed("a");
    expect(shown(h, "a")).toBeNull();
  });

  it("says cancelled, with the run's reason", () => {
    const h = new Harness(pipeline([{ id: "a" }, { id: "b", needs: ["a"] }]));
    h.send({ type: "cancel", reason: "cancelled by a person" });
    expect(shown(h, "a")).toEqual({ kind: "cancelled", message: "cancelled by a person" });
    expect(shown(h, "b")).toEqual({ kind: "cancelled", message: "cancelled by a person" });
  });

  it("says cancelled when the run timed out, with the run's timeout", () => {
    const h = new Harness(pipeline([{ id: "a" }], { timeout: "1h" }));
    h.fire("run");
    expect(shown(h, "a")).toEqual({ kind: "cancelled", message: "run timed out after 1h" });
  });

  it("names the upstream tasks that failed for upstream_failed", () => {
    const h = new Harness(
      pipeline([{ id: "a" }, { id: "b" }, { id: "c" }, { id: "d", needs: ["a", "b", "c"] }]),
    );
    h.fail("a");
    expect(shown(h, "d")).toEqual({ kind: "upstream_failed", message: 'upstream task "a" failed' });
    h.fail("b");
    h.succeed("c");
    expect(h.status("d")).toBe("upstream_failed");
    // Settled once, at the first failure; what is shown reads the upstream as it is now.
    expect(shown(h, "d")).toEqual({
      kind: "upstream_failed",
      message: 'upstream tasks "a", "b" failed',
    });
  });
});

describe("a run persisted before errors had kinds", () => {
  const legacy = {
    v: 1,
    id: "run_old",
    status: "failed",
    params: {},
    trigger_ref: null,
    logical_date: null,
    created_at: 1,
    started_at: 1,
    ended_at: 2,
    deadline_at: null,
    error: null,
    dispatches: 2,
    tasks: {
      a: {
        generation: 0,
        items_ref: null,
        instances: [
          {
            status: "failed",
            error: "it broke",
            map_index: -1,
            attempt: 1,
            dispatch: 1,
            started_at: 1,
            ended_at: 2,
          },
        ],
      },
      b: {
        generation: 0,
        items_ref: null,
        instances: [
          {
            status: "up_for_retry",
            due_at: 5,
            error: "timed out after 30s",
            map_index: 3,
            attempt: 1,
            dispatch: 2,
            started_at: 1,
            ended_at: null,
          },
        ],
      },
    },
  };

  it("still reads, its errors of kind unknown, as the current version", () => {
    const state = RunStateSchema.parse(legacy);
    expect(state.v).toBe(RUN_STATE_VERSION);
    expect(state.tasks.a?.instances[0]).toMatchObject({ error: { kind: "unknown", message: "it broke" } });
    expect(state.tasks.b?.instances[0]).toMatchObject({
      error: { kind: "unknown", message: "timed out after 30s" },
    });
  });

  it("reads the current version back unchanged", () => {
    const current = RunStateSchema.parse(legacy);
    expect(RunStateSchema.parse(JSON.parse(JSON.stringify(current)))).toEqual(current);
  });

  it("refuses an error of a kind nobody defined", () => {
    const bad = structuredClone(legacy);
    const [instance] = bad.tasks.a.instances;
    if (!instance) throw new Error("no instance");
    (instance as { error: unknown }).error = { kind: "gremlins", message: "?" };
    expect(RunStateSchema.safeParse(bad).success).toBe(false);
  });
});

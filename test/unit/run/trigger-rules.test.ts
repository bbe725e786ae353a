import { describe, expect, it } from "vitest";
import {
  countUpstream,
  evaluateTriggerRule,
  type RuleVerdict,
  type TaskStatus,
  type TriggerRule,
} from "../../../worker/engine/index";
import { Harness, pipeline } from "./helpers";

// Upstream instance states → verdict, following airflow/ti_deps/deps/trigger_rule_dep.py with
// flag_upstream_failed (the scheduler's mode). "running" stands for any unfinished upstream.
const S = "success";
const F = "failed";
const K = "skipped";
const U = "upstream_failed";
const R = "running";
const cases: Array<[TriggerRule, TaskStatus[], RuleVerdict]> = [
  ["all_success", [S, S], "run"],
  ["all_success", [S, R], "wait"],
  ["all_success", [F, R], "upstream_failed"], // eager: no need to wait for the rest
  ["all_success", [U, S], "upstream_failed"],
  ["all_success", [K, S], "skip"],
  ["all_success", [K, F], "upstream_failed"], // a failure outranks a skip
  ["all_failed", [F, U], "run"],
  ["all_failed", [F, R], "wait"],
  ["all_failed", [F, S], "skip"],
  ["all_failed", [K, F], "skip"],
  ["all_done", [S, F, K, U], "run"],
  ["all_done", [S, R], "wait"],
  ["all_skipped", [K, K], "run"],
  ["all_skipped", [K, R], "wait"],
  ["all_skipped", [K, S], "skip"],
  ["all_skipped", [U, K], "skip"],
  ["one_success", [S, R], "run"], // eager: runs at the first success
  ["one_success", [F, R], "wait"],
  ["one_success", [K, K], "skip"],
  ["one_success", [F, K], "upstream_failed"],
  ["one_failed", [F, R], "run"],
  ["one_failed", [U, S], "run"],
  ["one_failed", [S, R], "wait"],
  ["one_failed", [S, S], "skip"],
  ["one_failed", [S, K], "skip"],
  ["one_done", [S, R], "run"],
  ["one_done", [F, R], "run"],
  ["one_done", [K, R], "wait"],
  ["one_done", [K, K], "skip"],
  ["one_done", [U, K], "skip"], // Airflow counts only success and failed as "done" here
  ["none_failed", [S, K], "run"],
  ["none_failed", [K, K], "run"],
  ["none_failed", [S, R], "wait"],
  ["none_failed", [F, R], "upstream_failed"],
  ["none_failed", [U, S], "upstream_failed"],
  ["none_failed_min_one_success", [S, K], "run"],
  ["none_failed_min_one_success", [K, K], "skip"],
  ["none_failed_min_one_success", [K, R], "wait"],
  ["none_failed_min_one_success", [F, S], "upstream_failed"],
  ["none_skipped", [S, F], "run"],
  ["none_skipped", [S, U], "run"],
  ["none_skipped", [S, R], "wait"],
  ["none_skipped", [K, R], "skip"],
  ["always", [R, R], "run"], // Airflow: no dependency at all
  ["always", [F, K], "run"],
];

describe("trigger rules (Airflow semantics)", () => {
  it.each(cases)("%s with upstream %j → %s", (rule, upstream, verdict) => {
    expect(evaluateTriggerRule(rule, countUpstream(upstream))).toBe(verdict);
  });

  it("runs a task without upstream whatever its rule", () => {
    for (const rule of ["all_failed", "one_success", "all_skipped", "none_skipped"] as const) {
      expect(evaluateTriggerRule(rule, countUpstream([]))).toBe("run");
    }
  });

  it("counts a cancelled upstream as failed", () => {
    expect(evaluateTriggerRule("all_success", countUpstream(["cancelled"]))).toBe("upstream_failed");
    expect(evaluateTriggerRule("one_failed", countUpstream(["cancelled", S]))).toBe("run");
  });

  it("counts every instance of a mapped upstream, or its unexpanded placeholder as unfinished", () => {
    expect(evaluateTriggerRule("all_success", countUpstream([S, S, F]))).toBe("upstream_failed");
    expect(evaluateTriggerRule("one_success", countUpstream([F, F, S]))).toBe("run");
    expect(evaluateTriggerRule("all_done", countUpstream(["pending"]))).toBe("wait");
  });
});

describe("trigger rules in a run", () => {
  it("propagates a failure down an all_success chain as upstream_failed, and fails the run", () => {
    const h = new Harness(pipeline([{ id: "a" }, { id: "b", needs: ["a"] }, { id: "c", needs: ["b"] }]));
    h.fail("a");
    expect([h.status("a"), h.status("b"), h.status("c")]).toEqual([
      "failed",
      "upstream_failed",
      "upstream_failed",
    ]);
    expect(h.state.status).toBe("failed");
    expect(h.of("run_finished")).toEqual([{ type: "run_finished", status: "failed" }]);
  });

  it("skips an all_success task below a skipped one, and the run still succeeds", () => {
    const spec = pipeline(
      [
        { id: "a", when: "{{ params.go }}" },
        { id: "b", needs: ["a"] },
      ],
      { params: { go: { type: "boolean" } } },
    );
    const h = new Harness(spec);
    h.send({ type: "when_evaluated", task: "a", value: false });
    expect([h.status("a"), h.status("b")]).toEqual(["skipped", "skipped"]);
    expect(h.state.status).toBe("success");
  });

  it("skips a one_failed handler whose upstreams all succeeded", () => {
    const h = new Harness(
      pipeline([{ id: "a" }, { id: "b" }, { id: "alert", needs: ["a", "b"], trigger_rule: "one_failed" }]),
    );
    h.succeed("a");
    expect(h.status("alert")).toBe("pending");
    h.succeed("b");
    expect(h.status("alert")).toBe("skipped");
    expect(h.state.status).toBe("success");
  });

  it("runs a one_failed handler at the first failure, and the run still fails", () => {
    const h = new Harness(
      pipeline([{ id: "a" }, { id: "b" }, { id: "alert", needs: ["a", "b"], trigger_rule: "one_failed" }]),
    );
    h.fail("a");
    expect(h.dispatched()).toEqual(["alert"]);
    h.succeed("b", "alert");
    expect(h.state.status).toBe("failed");
  });

  it("dispatches an always task at the start, alongside its upstream", () => {
    const h = new Harness(pipeline([{ id: "a" }, { id: "cleanup", needs: ["a"], trigger_rule: "always" }]));
    expect(h.dispatched()).toEqual(["a", "cleanup"]);
  });

  it("uses the spec's default trigger rule for tasks that set none", () => {
    const spec = pipeline([{ id: "a" }, { id: "b", needs: ["a"] }], {
      defaults: { trigger_rule: "all_done" },
    });
    const h = new Harness(spec);
    h.fail("a");
    expect(h.dispatched()).toEqual(["b"]);
  });
});

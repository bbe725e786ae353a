import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RunStateSchema, TRIGGER_RULES } from "../../../worker/engine/index";
import { pipeline, type RawTask } from "./helpers";
import { Simulation } from "./simulator";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// Small DAGs keep each run quick inside workerd; variety comes from the number of runs.
const taskAt = (i: number) =>
  fc.record({
    needs: fc.subarray(range(i)),
    rule: fc.constantFrom(...TRIGGER_RULES),
    retries: fc.nat({ max: 2 }),
    backoff: fc.constantFrom("constant", "linear", "exponential"),
    forEach: fc.oneof(fc.constant(null), fc.nat({ max: 3 }), fc.constant("expression")),
    when: fc.constantFrom("none", "none", "task", "item"),
    timeout: fc.boolean(),
  });

const dag = fc.integer({ min: 1, max: 8 }).chain((n) => fc.tuple(...range(n).map(taskAt)));
const spec = fc
  .record({
    tasks: dag,
    cap: fc.option(fc.integer({ min: 1, max: 3 })),
    // Rare: a run timeout can fire at any point of the random order and would end most runs early.
    runTimeout: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  })
  .map(({ tasks, cap, runTimeout }) => {
    const raw: RawTask[] = tasks.map((t, i) => {
      const task: RawTask = {
        id: `t${i}`,
        needs: t.needs.map((n) => `t${n}`),
        trigger_rule: t.rule,
        retries: t.retries,
        retry_delay: "1s",
        retry_backoff: t.backoff,
      };
      if (t.forEach === "expression") task.for_each = "{{ params.list }}";
      else if (t.forEach !== null) task.for_each = range(t.forEach);
      if (t.when === "task" || (t.when === "item" && t.forEach === null)) task.when = "{{ params.go }}";
      if (t.when === "item" && t.forEach !== null) task.when = "{{ item }}";
      if (t.timeout) task.timeout = "10s";
      return task;
    });
    return pipeline(raw, {
      params: { go: { type: "boolean" }, list: { type: "array" } },
      ...(cap === null ? {} : { concurrency: { max_active_tasks: cap } }),
      ...(runTimeout ? { timeout: "1m" } : {}),
    });
  });
const choices = fc.array(fc.nat({ max: 1_000 }), { minLength: 10, maxLength: 150 });
const settings = { numRuns: 300 };

describe("the planner, driven by random DAGs and outcomes in random order", () => {
  it("always ends with every instance terminal and the run success or failed", () => {
    fc.assert(
      fc.property(spec, choices, (s, c) => {
        const sim = new Simulation(s, c);
        sim.runToQuiescence();
        expect(sim.allTerminal()).toBe(true);
        expect(["success", "failed"]).toContain(sim.state.status);
        expect(sim.finished.at(-1)).toBe(sim.state.status);
        // What the DO stores and reads back is the same state.
        expect(RunStateSchema.parse(JSON.parse(JSON.stringify(sim.state)))).toEqual(sim.state);
      }),
      settings,
    );
  });

  it("dispatches nothing before its trigger rule allows it, and settles without running otherwise", () => {
    fc.assert(
      fc.property(spec, choices, (s, c) => {
        const sim = new Simulation(s, c);
        sim.runToQuiescence();
        expect(sim.violations.filter((v) => v.kind === "rule" || v.kind === "settled")).toEqual([]);
      }),
      settings,
    );
  });

  it("never makes more than 1 + retries attempts, nor holds more slots than max_active_tasks", () => {
    fc.assert(
      fc.property(spec, choices, (s, c) => {
        const sim = new Simulation(s, c);
        sim.runToQuiescence();
        expect(sim.violations.filter((v) => ["attempts", "cap", "timer"].includes(v.kind))).toEqual([]);
      }),
      settings,
    );
  });

  it("dispatches and evaluates nothing after cancel, and leaves everything terminal", () => {
    fc.assert(
      fc.property(spec, choices, fc.nat({ max: 30 }), (s, c, at) => {
        const sim = new Simulation(s, c, { cancelAt: at });
        sim.runToQuiescence();
        expect(sim.dispatchedAfterCancel).toBe(0);
        expect(sim.allTerminal()).toBe(true);
        if (sim.cancelled) expect(["cancelled", "success", "failed"]).toContain(sim.state.status);
      }),
      settings,
    );
  });

  it("changes nothing when the same event is delivered a second time", () => {
    fc.assert(
      fc.property(spec, choices, (s, c) => {
        const sim = new Simulation(s, c, { duplicates: true });
        sim.runToQuiescence();
        expect(sim.violations).toEqual([]);
      }),
      settings,
    );
  });
});

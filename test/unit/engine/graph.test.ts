import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validatePipelineSpec } from "../../../worker/engine/index";
import { errorAt, invalidErrors, positionOf, yamlErrors } from "./helpers";

type TaskInput = { id: string; uses: string; needs?: string[]; with?: Record<string, unknown> };

function pipeline(tasks: TaskInput[]) {
  return validatePipelineSpec({ name: "graph", tasks });
}

function task(id: string, needs: string[] = [], extra: Partial<TaskInput> = {}): TaskInput {
  return { id, uses: "core/x@^1", needs, ...extra };
}

describe("the task graph", () => {
  it("refuses duplicate task ids at the second one", () => {
    const source = "name: x\ntasks:\n  - { id: a, uses: core/x@^1 }\n  - { id: a, uses: core/y@^1 }\n";
    expect(errorAt(yamlErrors(source), "tasks[1].id")).toEqual({
      path: "tasks[1].id",
      message: 'duplicate task id "a" (also tasks[0])',
      line: 4,
      column: 11,
    });
  });

  it("refuses needs that name unknown tasks, at the exact list item", () => {
    const source =
      "name: x\ntasks:\n  - { id: a, uses: core/x@^1 }\n  - id: b\n    uses: core/x@^1\n    needs: [a, ghost]\n";
    expect(errorAt(yamlErrors(source), "tasks[1].needs[1]")).toEqual({
      path: "tasks[1].needs[1]",
      message: 'unknown task "ghost" in needs',
      ...positionOf(source, "ghost"),
    });
  });

  it("refuses a task that needs itself, and a need listed twice", () => {
    const errors = invalidErrors(pipeline([task("a"), task("b", ["b", "a", "a"])]));
    expect(errorAt(errors, "tasks[1].needs[0]").message).toBe('task "b" cannot need itself');
    expect(errorAt(errors, "tasks[1].needs[2]").message).toBe('"a" is listed twice in needs');
  });

  it("reports a cycle as the path work would take around it", () => {
    const source = `name: x
tasks:
  - { id: a, uses: core/x@^1, needs: [c] }
  - { id: b, uses: core/x@^1, needs: [a] }
  - { id: c, uses: core/x@^1, needs: [b] }
  - { id: d, uses: core/x@^1, needs: [c] }
`;
    expect(yamlErrors(source)).toEqual([
      { path: "tasks[0].needs[0]", message: "cycle: a → b → c → a", ...positionOf(source, "c] }") },
    ]);
  });

  it("reports each independent cycle once", () => {
    const errors = invalidErrors(
      pipeline([task("a", ["b"]), task("b", ["a"]), task("c", ["d"]), task("d", ["c"])]),
    );
    expect(errors.map((e) => e.message)).toEqual(["cycle: a → b → a", "cycle: c → d → c"]);
  });

  it("checks the graph even when other parts of the spec are invalid", () => {
    const errors = invalidErrors(
      validatePipelineSpec({
        name: 5,
        tasks: [
          { id: "a", needs: ["b"] },
          { id: "b", uses: "x", needs: ["a"] },
        ],
      }),
    );
    expect(errors.map((e) => e.path)).toEqual([
      "name",
      "tasks[0].uses",
      "tasks[1].uses",
      "tasks[0].needs[0]",
    ]);
  });

  it("accepts any acyclic graph and finds the cycle a back edge creates", () => {
    const dag = fc.integer({ min: 2, max: 30 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        // Edges only point from a later task to an earlier one, so the graph is acyclic by construction.
        needs: fc.array(fc.uniqueArray(fc.nat(n - 1)), { minLength: n, maxLength: n }),
        back: fc
          .tuple(fc.nat(n - 2), fc.nat(n - 2))
          .map(([a, b]) => [Math.min(a, b), Math.max(a, b) + 1] as const),
      }),
    );
    fc.assert(
      fc.property(dag, ({ n, needs, back }) => {
        const tasks = Array.from({ length: n }, (_, i) =>
          task(
            `t${i}`,
            (needs[i] ?? []).filter((j) => j < i).map((j) => `t${j}`),
          ),
        );
        expect(pipeline(tasks).ok).toBe(true);
        // Make `early` need `late` and `late` depend on `early`: a cycle however the rest is wired.
        const [early, late] = back;
        const lateTask = tasks[late];
        const earlyTask = tasks[early];
        if (!lateTask || !earlyTask) throw new Error("indices are in range");
        if (!lateTask.needs?.includes(`t${early}`)) lateTask.needs = [...(lateTask.needs ?? []), `t${early}`];
        earlyTask.needs = [...(earlyTask.needs ?? []), `t${late}`];
        const errors = invalidErrors(pipeline(tasks));
        expect(errors.length).toBeGreaterThan(0);
        expect(errors.every((e) => e.message.startsWith("cycle: "))).toBe(true);
        const cycle = errors.find((e) => e.message.includes(`t${early}`))?.message ?? "";
        const ids = cycle.slice("cycle: ".length).split(" → ");
        expect(ids[0]).toBe(ids.at(-1));
        expect(ids).toContain(`t${late}`);
      }),
      { numRuns: 200 },
    );
  });
});
